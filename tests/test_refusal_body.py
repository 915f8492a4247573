"""The body of a response refusing a client's upgrade, on asyncio's and uvloop's transports.

compat's client reads the part of the body picows didn't read from a duplicate of the socket;
each event loop closes picows' transport its own way. websockets' and compat's clients must get
the same body, and compat must leave no file descriptor open.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, cast

import pytest

if TYPE_CHECKING:
    from websockets.exceptions import InvalidStatus

    from compat.exceptions import InvalidStatus as CompatInvalidStatus

uvloop = pytest.importorskip("uvloop")

BODY = bytes(range(256)) * 400

RESPONSES = {
    "length": b"Content-Length: %d\r\n\r\n%b" % (len(BODY), BODY),
    "chunked": b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%b\r\n0\r\n\r\n" % (len(BODY), BODY),
    "eof": b"\r\n" + BODY,
}


async def refusals(library: str, framing: str, count: int) -> list[Any]:
    """Connect ``count`` times to a server refusing with ``BODY``; each outcome."""
    client = importlib.import_module(f"{library}.asyncio.client")

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 403 Forbidden\r\n" + RESPONSES[framing])
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    outcomes: list[Any] = []
    async with server:
        for _ in range(count):
            try:
                await client.connect(url, open_timeout=5)
            except Exception as exc:
                # The refusal, an InvalidStatus of the library under test.
                response = cast("InvalidStatus | CompatInvalidStatus", exc).response
                outcomes.append((type(exc).__name__, bytes(response.body) == BODY))
    return outcomes


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


Runner = Callable[[Coroutine[Any, Any, list[Any]]], list[Any]]


@pytest.mark.parametrize("framing", sorted(RESPONSES))
@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_same_body(run: Runner, framing: str) -> None:
    expected = run(refusals("websockets", framing, 1))
    assert expected == [("InvalidStatus", True)]
    assert run(refusals("compat", framing, 1)) == expected


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
@pytest.mark.parametrize("run", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"])
def test_no_descriptor_left_open(run: Runner) -> None:
    run(refusals("compat", "length", 1))
    before = open_descriptors()
    assert run(refusals("compat", "length", 20)) == [("InvalidStatus", True)] * 20
    assert open_descriptors() == before
