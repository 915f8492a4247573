"""
Connecting through a proxy without python-socks installed. Every other comparison of
``connect()`` through a proxy with websockets is a conformance scenario (``proxy.*``,
``proxy-options.*`` and ``real-proxy.*`` in ``conformance/scenarios/``); this one needs an
interpreter where python-socks can't be imported: websockets and compat check for it when they are
imported, so a scenario can't hide it.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.proxyserver import ECHO, Outcome, PProxy

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ignore the proxies configured where the tests run: ``connect()`` uses them by default."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def proxy_port() -> Iterator[int]:
    """Port of pproxy serving HTTP CONNECT and SOCKS5, open to all."""
    with PProxy("http+socks5") as port:
        yield port


WITHOUT_PYTHON_SOCKS = """
import asyncio, sys
import picows  # picows imports python-socks itself: hide it from websockets and compat only
sys.modules["python_socks"] = None
from tests.proxyserver import exchange

async def both():
    roots = ["websockets", "compat"]
    return [await exchange(root, sys.argv[1], proxy=sys.argv[2]) for root in roots]

print(repr(asyncio.run(both())))
"""


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        (
            "socks5h",
            ("raised", "ImportError", "connecting through a SOCKS proxy requires python-socks"),
        ),
        ("http", ECHO),
    ],
)
async def test_without_python_socks(
    proxy_port: int, server_port: int, scheme: str, expected: Outcome
) -> None:
    """Without python-socks, SOCKS proxies raise ImportError; HTTP proxies still work."""
    uri = f"ws://127.0.0.1:{server_port}/"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WITHOUT_PYTHON_SOCKS,
        uri,
        f"{scheme}://127.0.0.1:{proxy_port}",
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        stdout, stderr = await child.communicate()
    assert child.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == repr([expected, expected])  # websockets, compat
