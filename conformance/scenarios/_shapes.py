"""Shared shapes of scenarios: echo servers, recorders and raw-peer helpers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from .. import trace
from ..raw import RawConnection
from ..scenario import Pair


async def echo(ws: Any) -> None:
    """Send back every message until the connection closes."""
    with contextlib.suppress(Exception):
        async for message in ws:
            await ws.send(message)


async def hold(ws: Any) -> None:
    """Keep the connection open until the peer closes it."""
    with contextlib.suppress(Exception):
        await ws.wait_closed()


def closed(ws: Any) -> dict[str, Any]:
    """State and close code/reason of a connection, as trace data."""
    return {"state": trace.state(ws), "code": trace.data(ws.close_code), "reason": ws.close_reason}


class Recorder:
    """A server handler that runs ``body`` and records its outcome for the trace."""

    def __init__(self, body: Callable[[Any], Awaitable[object]]) -> None:
        self.body = body
        self.result: Any = None
        self.done = asyncio.Event()

    async def __call__(self, ws: Any) -> None:
        try:
            self.result = await trace.outcome(self.body(ws))
        finally:
            self.done.set()

    async def wait(self, pair: Pair) -> Any:
        """The handler's outcome, once it finished (bounded)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(pair.timeout):
                await self.done.wait()
        return self.result


@contextlib.asynccontextmanager
async def client_of_raw(
    pair: Pair, script: Callable[[RawConnection], Awaitable[None]], **kwargs: Any
) -> AsyncIterator[Any]:
    """The client target connected to a raw server running ``script``."""
    async with pair.serve_raw(script) as server, pair.connect(server.url, **kwargs) as ws:
        yield ws


async def frames_until_close(conn: RawConnection, answer_close: bool = True) -> list[Any]:
    """Frames the raw peer reads until the close handshake (or EOF if not answering)."""
    if answer_close:
        frames, ended = await conn.close_handshake()
    else:
        frames, ended = await conn.read_until_eof()
    return [*(frame.trace() for frame in frames), {"ended": ended}]
