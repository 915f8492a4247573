"""compat stands on picows alone: it imports and echoes where websockets isn't installed."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
COMPAT = ROOT / "compat"

ECHO = textwrap.dedent(
    """
    import asyncio, importlib.util, sys
    assert importlib.util.find_spec("websockets") is None, "websockets is importable"
    from compat.asyncio.client import connect
    from compat.asyncio.server import serve

    async def echo(ws):
        async for message in ws:
            await ws.send(message)

    async def main():
        async with asyncio.timeout(10):
            async with serve(echo, "127.0.0.1", 0) as server:
                port = server.sockets[0].getsockname()[1]
                async with connect(f"ws://127.0.0.1:{port}") as ws:
                    await ws.send("hello")
                    assert await ws.recv() == "hello"
                    await ws.send(b"\\x00\\x01")
                    assert await ws.recv() == b"\\x00\\x01"
        print("echo ok")

    asyncio.run(main())
    """
)


def runtime_closure(name: str) -> set[str]:
    """The distributions ``name`` needs at run time, itself included."""
    seen: set[str] = set()
    pending = [name]
    while pending:
        dist = importlib.metadata.distribution(pending.pop())
        key = dist.metadata["Name"].lower()
        if key in seen:
            continue
        seen.add(key)
        for requirement in dist.requires or []:
            if ";" in requirement:
                continue  # extras and markers: not needed at run time
            pending.append(re.split(r"[ <>=!~\[(]", requirement, maxsplit=1)[0])
    return seen


def top_level_paths(dist_name: str) -> set[pathlib.Path]:
    """The top-level packages and modules a distribution installs."""
    dist = importlib.metadata.distribution(dist_name)
    paths = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".egg-info")) or first in ("..", "__pycache__"):
            continue
        paths.add(pathlib.Path(str(dist.locate_file(first))).resolve())
    return paths


def test_compat_echoes_without_websockets(tmp_path: pathlib.Path) -> None:
    """A fresh interpreter that sees only compat, picows and what picows requires."""
    env_dir = tmp_path / "site"
    env_dir.mkdir()
    (env_dir / "compat").symlink_to(COMPAT, target_is_directory=True)
    for dist_name in runtime_closure("picows"):
        for path in top_level_paths(dist_name):
            (env_dir / path.name).symlink_to(path)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(env_dir)}
    # -S: no site-packages, so nothing else installed in this environment is visible.
    result = subprocess.run(
        [sys.executable, "-S", "-c", ECHO],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "echo ok"


@pytest.mark.parametrize(
    "path", sorted(COMPAT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_compat_never_imports_websockets(path: pathlib.Path) -> None:
    """No module of compat imports websockets or picows.websockets."""
    tree = ast.parse(path.read_text(), filename=str(path))
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.append(node.module)
    forbidden = [
        name
        for name in imported
        if name == "websockets" or name.startswith(("websockets.", "picows.websockets"))
    ]
    assert forbidden == []
