"""Keepalive: ping_interval and ping_timeout against peers that answer or stay silent."""

from __future__ import annotations

import asyncio
from typing import Any

from ..raw import OP_PING, RawConnection
from ..scenario import Pair, scenario
from ._shapes import Recorder, closed, hold


def opcodes(frames: list[Any]) -> list[Any]:
    """Frames reduced to what is stable under timing: distinct opcodes and close codes."""
    result: list[Any] = []
    for frame in frames:
        item = {"close": [frame.close()[0], frame.close()[1].decode()]} if frame.opcode == 8 else (
            {"opcode": frame.opcode}
        )
        if not result or result[-1] != item:
            result.append(item)
    return result


@scenario("keepalive", sides="client")
async def client_keepalive_timeout(pair: Pair) -> Any:
    """A server that never pongs: the client fails the connection with 1011."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        frames, _ = await conn.read_until_eof()
        seen.extend(opcodes(frames))

    async with (
        pair.serve_raw(script) as server,
        pair.connect(server.url, ping_interval=0.1, ping_timeout=0.1, close_timeout=0.1) as ws,
    ):
        outcome = await pair.catch(ws.recv())
        state = closed(ws)
    return {"recv": outcome, "closed": state, "peer_read": seen}


@scenario("keepalive", sides="server")
async def server_keepalive_timeout(pair: Pair) -> Any:
    """A client that never pongs: the server fails the connection with 1011."""

    async def body(ws: Any) -> Any:
        return {"recv": await pair.catch(ws.recv()), "closed": closed(ws)}

    recorder = Recorder(body)
    async with (
        pair.serve(recorder, ping_interval=0.1, ping_timeout=0.1, close_timeout=0.1) as url,
        pair.connect_raw(url) as conn,
    ):
        frames, eof = await conn.read_until_eof()
        server = await recorder.wait(pair)
    return {"server": server, "peer_read": opcodes(frames), "eof": eof}


@scenario("keepalive")
async def keepalive_answered(pair: Pair) -> Any:
    """Both sides ping every 50 ms and answer: the connection stays open with a latency."""
    async with (
        pair.serve(hold, ping_interval=0.05, ping_timeout=0.5) as url,
        pair.connect(url, ping_interval=0.05, ping_timeout=0.5) as ws,
    ):
        await asyncio.sleep(0.3)
        return {"state": closed(ws), "latency_positive": ws.latency > 0}


@scenario("keepalive", sides="client")
async def keepalive_disabled(pair: Pair) -> Any:
    """ping_interval=None sends no pings."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        frames, _ = await conn.close_handshake()
        seen.extend(opcodes(frames))

    async with pair.serve_raw(script) as server, pair.connect(server.url, ping_interval=None):
        await asyncio.sleep(0.3)
    return {"pings": sum(item.get("opcode") == OP_PING for item in seen), "peer_read": seen}
