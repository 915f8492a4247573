"""Limits: max_size (1009), max_queue (backpressure keeps order) and write_limit."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from .. import trace
from ..raw import RawConnection
from ..scenario import Pair, family, scenario
from ._shapes import Recorder, closed, hold

SIZE_CASES = [
    ("limits.max-size-exceeded-by-server", "the server sends 11 bytes to a client with max_size=10",
     {"size": 11, "receiver": "client", "max_size": 10}),
    ("limits.max-size-exact", "a message of exactly max_size bytes is accepted",
     {"size": 10, "receiver": "client", "max_size": 10}),
    ("limits.max-size-exceeded-by-client", "the client sends 11 bytes to a server with max_size=10",
     {"size": 11, "receiver": "server", "max_size": 10}),
    ("limits.max-size-fragmented", "fragments totalling over max_size are rejected",
     {"size": 11, "receiver": "client", "max_size": 10, "fragments": 3}),
    ("limits.max-size-text", "a text message over max_size is rejected",
     {"size": 11, "receiver": "server", "max_size": 10, "text": True}),
    ("limits.max-size-default", "the default max_size is 1 MiB",
     {"size": 2**20 + 1, "receiver": "client", "max_size": None, "default": True}),
    ("limits.max-size-none", "max_size=None accepts 2 MiB",
     {"size": 2**21, "receiver": "client", "max_size": None}),
    ("limits.max-size-pair-frame", "max_size=(100, 10): an 11-byte frame is over the frame limit",
     {"size": 11, "receiver": "client", "max_size": (100, 10)}),
    ("limits.max-size-pair-fragments", "max_size=(100, 10): 30 bytes in three 10-byte fragments",
     {"size": 30, "receiver": "server", "max_size": (100, 10), "fragments": 3}),
    ("limits.max-size-pair-fragment-over", "max_size=(100, 10): fragments of 11 bytes",
     {"size": 33, "receiver": "client", "max_size": (100, 10), "fragments": 3}),
    ("limits.max-size-pair-message-over", "max_size=(20, 10): 30 bytes in 10-byte fragments",
     {"size": 30, "receiver": "server", "max_size": (20, 10), "fragments": 3, "text": True}),
    ("limits.max-size-pair-no-message-limit", "max_size=(None, 10): 50 bytes in 10-byte fragments",
     {"size": 50, "receiver": "client", "max_size": (None, 10), "fragments": 5}),
    ("limits.max-size-pair-no-frame-limit", "max_size=(10, None): an 11-byte frame",
     {"size": 11, "receiver": "server", "max_size": (10, None)}),
]


async def receive(pair: Pair, ws: Any) -> Any:
    """One recv(): the length of the message or the exception; then the close state."""
    async def length() -> int:
        return len(await ws.recv())

    return {"recv": await pair.catch(length()), "closed": closed(ws)}


@family("limits", SIZE_CASES)
async def max_size(
    pair: Pair,
    size: int,
    receiver: str,
    max_size: int | tuple[int | None, int | None] | None,
    fragments: int = 1,
    text: bool = False,
    default: bool = False,
) -> Any:
    """One side sends ``size`` bytes; the receiver limited by max_size reports what happened."""
    payload: Any = "x" * size if text else b"x" * size
    message: Any = payload
    if fragments > 1:
        step = -(-size // fragments)
        message = [payload[start : start + step] for start in range(0, size, step)]
    limit: dict[str, Any] = {} if default else {"max_size": max_size}

    async def body(ws: Any) -> Any:
        if receiver == "server":
            return await receive(pair, ws)
        await ws.send(message)
        await hold(ws)
        return closed(ws)

    recorder = Recorder(body)
    server_kwargs = limit if receiver == "server" else {}
    client_kwargs = limit if receiver == "client" else {}
    async with (
        pair.serve(recorder, **server_kwargs) as url,
        pair.connect(url, **client_kwargs) as ws,
    ):
        if receiver == "client":
            client = await receive(pair, ws)
        else:
            await ws.send(message)
            client = {"recv": await pair.catch(ws.recv()), "closed": closed(ws)}
    return {"client": client, "server": await recorder.wait(pair)}


@scenario("limits")
async def max_queue_keeps_order(pair: Pair) -> Any:
    """A handler that reads only after 100 messages arrived gets them all, in order."""

    async def body(ws: Any) -> Any:
        await asyncio.sleep(0.3)
        received = [await ws.recv() for _ in range(100)]
        await ws.send("done")
        return received == [str(index) for index in range(100)]

    recorder = Recorder(body)
    async with pair.serve(recorder, max_queue=4) as url, pair.connect(url) as ws:
        for index in range(100):
            await asyncio.wait_for(ws.send(str(index)), pair.timeout)
        done = await pair.catch(ws.recv())
    return {"server_in_order": await recorder.wait(pair), "client": done}


@scenario("limits", sides="client")
async def write_limit_blocks(pair: Pair) -> Any:
    """Sending to a peer that never reads eventually blocks send() (bounded wait)."""

    async def script(conn: RawConnection) -> None:
        await asyncio.sleep(0.5)

    chunk = b"x" * 2**18
    blocked = False
    async with pair.serve_raw(script) as server, pair.connect(
        server.url, write_limit=2**16, close_timeout=0.1
    ) as ws:
        for _ in range(256):
            try:
                await asyncio.wait_for(ws.send(chunk), 0.3)
            except TimeoutError:
                blocked = True
                break
    return {"blocked": blocked}


@scenario("limits", sides="client", id="limits.write-error-logged")
async def write_error_logged(pair: Pair) -> Any:
    """The peer resets the TCP connection while send() waits for the write buffer to drain:
    what send() raises, the close state, and the error and state lines logged at DEBUG."""

    async def script(conn: RawConnection) -> None:
        await asyncio.sleep(0.2)
        sock = conn.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.writer.transport.abort()

    async with pair.serve_raw(script) as server:
        with pair.watching_logs() as watch:
            async with pair.connect(server.url, write_limit=2**16) as ws:
                try:
                    await asyncio.wait_for(ws.send(b"x" * 2**24), pair.timeout)
                    sent: Any = {"result": None}
                except Exception as exc:
                    sent = {**trace.exception(exc), "cause": trace.data(repr(exc.__cause__))}
                state = closed(ws)
    lines = [
        entry
        for entry in watch.trace("websockets.client")["connections"]
        if entry.get("message", "")[:1] in ("!", "=", "x")
    ]
    return {"send": sent, "closed": state, "logs": lines}
