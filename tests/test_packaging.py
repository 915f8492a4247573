"""The distributions: built with ``python -m build``, checked by twine, compat only, usable alone.

The sdist and the wheel are built once per module, from a copy of the checkout (the wheel from
the sdist, as ``build`` does by default), then checked with ``twine check --strict``. The wheel
is installed without the ``test`` extra into a fresh virtual environment, so websockets is absent
there and picows comes from the package index, and an echo runs through
``compat.asyncio.server.serve`` and ``compat.asyncio.client.connect`` on 127.0.0.1. Every
subprocess has a time limit.
"""

from __future__ import annotations

import dataclasses
import email
import email.message
import json
import os
import pathlib
import subprocess
import sys
import tarfile
import textwrap
import zipfile

import pytest

from compat.version import version as VERSION
from tests import checkout

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "compat"
DIST_INFO = f"compat-{VERSION}.dist-info/"
SDIST_ROOT = f"compat-{VERSION}/"
SDIST_FILES = {"PKG-INFO", "pyproject.toml", "setup.cfg", "MANIFEST.in", "README.md", "LICENSE"}

BUILD_TIMEOUT = 600.0
INSTALL_TIMEOUT = 600.0
CHECK_TIMEOUT = 120.0
SCRIPT_TIMEOUT = 60.0

ECHO = textwrap.dedent(
    """
    import asyncio
    import json
    import sys

    import compat
    from compat.asyncio.client import connect
    from compat.asyncio.server import serve


    async def echo(websocket):
        async for message in websocket:
            await websocket.send(message)


    async def main():
        async with asyncio.timeout(30):
            async with serve(echo, "127.0.0.1", 0) as server:
                port = server.sockets[0].getsockname()[1]
                async with connect(f"ws://127.0.0.1:{port}") as websocket:
                    await websocket.send("Hello world!")
                    text = await websocket.recv()
                    await websocket.send(b"\\x00\\xff")
                    data = await websocket.recv()
        return {
            "text": text,
            "data": data.hex(),
            "compat": compat.__file__,
            "websockets_modules": sorted(
                name for name in sys.modules if name.partition(".")[0] == "websockets"
            ),
        }


    print(json.dumps(asyncio.run(main())))
    """
)


@dataclasses.dataclass(frozen=True)
class Dists:
    sdist: pathlib.Path
    wheel: pathlib.Path


def run(
    args: list[str | os.PathLike[str]],
    *,
    cwd: pathlib.Path,
    timeout: float,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [os.fspath(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """The standard output of a command that must have exited 0, else fail with its output."""
    assert result.returncode == 0, (
        f"{result.args} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result.stdout


def clean_env() -> dict[str, str]:
    """This process's environment, without what would let the venv see this checkout."""
    hidden = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
    return {key: value for key, value in os.environ.items() if key not in hidden}


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    outdir = tmp_path_factory.mktemp("dist")
    # The build writes compat.egg-info into the tree it builds: a copy of the checkout, so that
    # tests leave the repository as it was.
    source = checkout.copy(tmp_path_factory.mktemp("checkout") / "compat")
    succeeded(
        run(
            [sys.executable, "-m", "build", "--outdir", outdir, source],
            cwd=source,
            timeout=BUILD_TIMEOUT,
        )
    )
    sdists = sorted(outdir.glob("*.tar.gz"))
    wheels = sorted(outdir.glob("*.whl"))
    assert [path.name for path in sdists] == [f"compat-{VERSION}.tar.gz"]
    assert [path.name for path in wheels] == [f"compat-{VERSION}-py3-none-any.whl"]
    return Dists(sdist=sdists[0], wheel=wheels[0])


def package_files() -> set[str]:
    """The files of the package in this checkout, as paths relative to the root."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and (path.suffix == ".py" or path.name == "py.typed")
    }


def test_twine_check(dists: Dists, tmp_path: pathlib.Path) -> None:
    output = succeeded(
        run(
            [sys.executable, "-m", "twine", "check", "--strict", dists.sdist, dists.wheel],
            cwd=tmp_path,
            timeout=CHECK_TIMEOUT,
        )
    )
    assert output.count("PASSED") == 2, output


def test_wheel_holds_the_package_and_metadata_only(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
    metadata = {name for name in names if name.startswith(DIST_INFO)}
    assert names - metadata == package_files()
    assert {
        DIST_INFO + "METADATA",
        DIST_INFO + "WHEEL",
        DIST_INFO + "RECORD",
        DIST_INFO + "licenses/LICENSE",
    } <= metadata


def test_sdist_holds_the_package_and_metadata_only(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as sdist:
        names = {member.name for member in sdist.getmembers() if member.isfile()}
    assert all(name.startswith(SDIST_ROOT) for name in names), sorted(names)
    relative = {name.removeprefix(SDIST_ROOT) for name in names}
    egg_info = {name for name in relative if name.startswith("compat.egg-info/")}
    assert relative - egg_info == package_files() | SDIST_FILES


def test_metadata(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        metadata: email.message.Message = email.message_from_bytes(
            wheel.read(DIST_INFO + "METADATA")
        )
        license_text = wheel.read(DIST_INFO + "licenses/LICENSE").decode()
    assert metadata["Name"] == "compat"
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert license_text == (ROOT / "LICENSE").read_text()
    assert "BSD 3-Clause License" in license_text
    requires = metadata.get_all("Requires-Dist") or []
    assert [spec for spec in requires if "extra ==" not in spec] == ["picows<3,>=2.3"]


def test_wheel_alone_echoes_without_websockets(dists: Dists, tmp_path: pathlib.Path) -> None:
    env = clean_env()
    venv = tmp_path / "venv"
    succeeded(run([sys.executable, "-m", "venv", venv], cwd=tmp_path, timeout=CHECK_TIMEOUT))
    python = venv / "bin" / "python"
    succeeded(
        run(
            [python, "-m", "pip", "install", "--no-input", dists.wheel],
            cwd=tmp_path,
            env=env,
            timeout=INSTALL_TIMEOUT,
        )
    )
    succeeded(run([python, "-m", "pip", "check"], cwd=tmp_path, env=env, timeout=CHECK_TIMEOUT))

    missing = run(
        [python, "-I", "-c", "import websockets"], cwd=tmp_path, env=env, timeout=SCRIPT_TIMEOUT
    )
    assert missing.returncode != 0, "websockets is importable in the fresh environment"
    assert "ModuleNotFoundError: No module named 'websockets'" in missing.stderr, missing.stderr

    script = tmp_path / "echo.py"
    script.write_text(ECHO)
    result = json.loads(
        succeeded(run([python, "-I", script], cwd=tmp_path, env=env, timeout=SCRIPT_TIMEOUT))
    )
    assert result["text"] == "Hello world!"
    assert result["data"] == "00ff"
    assert result["websockets_modules"] == []
    assert pathlib.Path(result["compat"]).is_relative_to(venv)
