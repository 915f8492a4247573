"""Shared shapes of scenarios: echo servers, recorders and raw-peer helpers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from .. import trace
from ..raw import OP_CLOSE, RawConnection
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


async def frames_until_close(conn: RawConnection, answer_close: bool = True) -> list[Any]:
    """Frames the raw peer reads until the close handshake (or EOF if not answering)."""
    if answer_close:
        frames, ended = await conn.close_handshake()
    else:
        frames, ended = await conn.read_until_eof()
    return [*(frame.trace() for frame in frames), {"ended": ended}]


# A frame a raw peer sends: opcode, payload and encode_frame keyword arguments.
FrameSpec = tuple[int, bytes, dict[str, Any]]


async def drain(pair: Pair, ws: Any, limit: int = 5) -> list[Any]:
    """Outcomes of recv() until it raises (at most ``limit`` calls)."""
    outcomes: list[Any] = []
    for _ in range(limit):
        outcomes.append(await pair.catch(ws.recv()))
        if "exception" in outcomes[-1]:
            break
    return outcomes


async def play(conn: RawConnection, frames: list[FrameSpec], abort: bool) -> list[Any]:
    """Send ``frames``, then abort TCP or finish the close handshake; return what was read."""
    for opcode, payload, kwargs in frames:
        await conn.send_frame(opcode, payload, **kwargs)
    if abort:
        await conn.aclose()
        return [{"aborted": True}]
    sent_close = any(opcode == OP_CLOSE for opcode, _, _ in frames)
    seen, ended = await conn.close_handshake(reply=not sent_close)
    return [*(frame.trace() for frame in seen), {"ended": ended}]


async def peer_sends(
    pair: Pair,
    frames: list[FrameSpec],
    abort: bool = False,
    to: str = "client",
    receive: Callable[[Any], Awaitable[Any]] | None = None,
) -> Any:
    """A raw peer sends ``frames`` to the target (``to`` client or server), which drains recv().

    ``receive(ws)``, when given, reads in place of the recv() drain. The trace holds the
    target's recv outcomes, its final close state, and the frames the raw peer read back
    (e.g. the close code the target chose).
    """
    read = receive or functools.partial(drain, pair)
    seen: list[Any] = []
    if to == "client":

        async def script(conn: RawConnection) -> None:
            seen.extend(await play(conn, frames, abort))

        async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
            outcomes = await read(ws)
            state = closed(ws)
        return {"recv": outcomes, "closed": state, "peer_read": seen}

    record: dict[str, Any] = {}

    async def handler(ws: Any) -> None:
        record["recv"] = await read(ws)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(pair.timeout):
                await ws.wait_closed()
        record["closed"] = closed(ws)

    recorder = Recorder(handler)
    async with pair.serve(recorder) as url, pair.connect_raw(url) as conn:
        seen = await play(conn, frames, abort)
        await recorder.wait(pair)
    return {**record, "peer_read": seen}


def both_directions(
    cases: list[tuple[str, str, dict[str, Any]]],
) -> tuple[list[tuple[str, str, dict[str, Any]]], list[tuple[str, str, dict[str, Any]]]]:
    """Split ``(id, title, kwargs)`` cases into to-client and to-server variants.

    A case may restrict itself with ``only="client"`` or ``only="server"`` in kwargs.
    """
    split: dict[str, list[tuple[str, str, dict[str, Any]]]] = {"client": [], "server": []}
    for case_id, title, kwargs in cases:
        only = kwargs.get("only")
        for side in ("client", "server"):
            if only in (None, side):
                options = {key: value for key, value in kwargs.items() if key != "only"}
                split[side].append(
                    (f"{case_id}.to-{side}", f"{title} (to the {side})", {**options, "to": side})
                )
    return split["client"], split["server"]


async def open_and_close(
    pair: Pair, url: str, probe: Callable[[Any], Any] = trace.state, **kwargs: Any
) -> Any:
    """Outcome of connecting (then closing): ``probe(ws)`` once open, or the exception."""

    async def attempt() -> Any:
        async with pair.connect(url, **kwargs) as ws:
            return trace.data(probe(ws))

    try:
        async with asyncio.timeout(pair.timeout):
            return {"result": await attempt()}
    except Exception as exc:
        handshake = isinstance(exc, pair.client_exc.InvalidHandshake)
        return {**trace.exception(exc), "invalid_handshake": handshake}
