"""The compat-conformance command: an editable install of ``harness/`` runs the real harness.

The harness of a copy of this checkout (an editable build writes into the tree it builds, and
tests leave the repository as it was) is installed editable into a fresh virtual environment,
which sees this process's packages (pytest, websockets, ...) through a ``.pth`` file, as a
checkout with ``pip install -e '.[test]' -e ./harness`` has them. The command then runs from an
unrelated folder.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import sysconfig
import venv

import pytest

from conformance import cli
from tests import checkout

INSTALL_TIMEOUT = 600.0
RUN_TIMEOUT = 120.0


def run(args: list[str], cwd: pathlib.Path, timeout: float) -> subprocess.CompletedProcess[str]:
    hidden = {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The compat-conformance script of a fresh environment with the harness installed."""
    home = tmp_path_factory.mktemp("harness-venv")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                  home, RUN_TIMEOUT).stdout.strip()
    pathlib.Path(purelib, "parent-environment.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8"
    )
    # The editable build writes an egg-info folder into the tree it builds: a copy's.
    source = checkout.copy(tmp_path_factory.mktemp("checkout") / "compat")
    installed = run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(source / "harness")],
        source,
        INSTALL_TIMEOUT,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return home / "bin" / "compat-conformance"


def test_script_shows_its_usage_anywhere(script: pathlib.Path, tmp_path: pathlib.Path) -> None:
    shown = run([str(script), "--help"], tmp_path, RUN_TIMEOUT)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: compat-conformance [-h] --target ROOT")


def test_script_runs_the_checkout_harness(script: pathlib.Path, tmp_path: pathlib.Path) -> None:
    refused = run([str(script), "--target", "no_such_root"], tmp_path, RUN_TIMEOUT)
    assert refused.returncode == 2
    assert refused.stderr.startswith("no_such_root can't be tested:")

    out = tmp_path / "out"
    command = [str(script), "--target", "compat", "--out", str(out)]
    ran = run([*command, "--", "-k", "close.client-closes-1000", "-p", "no:cacheprovider"],
              tmp_path, INSTALL_TIMEOUT)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    results = json.loads((out / "results" / "conformance.json").read_text(encoding="utf-8"))
    assert {target["name"] for target in results["targets"]} == {"websockets", "compat"}
    assert (out / "compatibility.html").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_harness_outside_a_checkout_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    assert cli.checkout_missing() is None
    monkeypatch.setattr(cli, "ROOT", tmp_path)
    assert "pip install -e '.[test]' -e ./harness" in (cli.checkout_missing() or "")
    monkeypatch.setattr(sys, "argv", ["compat-conformance"])
    assert cli.main(["--target", "compat"]) == 2
