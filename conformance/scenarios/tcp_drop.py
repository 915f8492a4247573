"""Connections that end without a closing handshake: the TCP connection ends under the peer.

recv() then raises ConnectionClosedError caused by the EOFError that ended the stream of frames
(its message says how much of a frame was cut), or by the ConnectionResetError of a reset;
close_code reads 1006. A TCP relay between two targets ends (or resets) both TCP connections at
once; raw peers end theirs after a message, in the middle of a frame, or half-close it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from .. import trace
from ..raw import OP_TEXT, RawConnection, encode_frame
from ..scenario import Pair, family
from ._shapes import Recorder, closed


def failure(exc: BaseException) -> dict[str, Any]:
    """An exception as trace data, with the class and message of its cause."""
    result: dict[str, Any] = trace.exception(exc)
    cause = exc.__cause__
    result["cause"] = (
        None if cause is None else {"exception": type(cause).__name__, "str": str(cause)}
    )
    return result


async def attempt(pair: Pair, awaitable: Awaitable[object]) -> Any:
    """The outcome of ``awaitable``, bounded, as trace data: an exception with its cause."""
    try:
        async with asyncio.timeout(pair.timeout):
            result = await awaitable
    except Exception as exc:
        return failure(exc)
    if isinstance(result, str | bytes):
        return {"result": trace.message(result)}
    return {"result": trace.data(result)}


async def after_drop(pair: Pair, ws: Any, messages: int = 0) -> dict[str, Any]:
    """What a connection sees once its TCP connection ended without a closing handshake.

    ``messages`` messages are received first. Then recv() raises; close_code and close_reason
    are read at once; recv() again, send() and wait_closed() follow.
    """
    received = [await attempt(pair, ws.recv()) for _ in range(messages)]
    recv = await attempt(pair, ws.recv())
    right_after = closed(ws)
    return {
        "received": received,
        "recv": recv,
        "closed_after_recv": right_after,
        "recv_again": await attempt(pair, ws.recv()),
        "send": await attempt(pair, ws.send("late")),
        "wait_closed": await attempt(pair, ws.wait_closed()),
        "closed": closed(ws),
    }


class Relay:
    """A TCP relay on 127.0.0.1 to ``port``, which can end every connection it relays."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.url = ""

    async def _copy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writers += [writer, up_writer]
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._copy(source, sink))
            self.tasks.add(task)

    def cut(self, reset: bool) -> None:
        """End both TCP connections of every relayed connection: FIN, or RST if ``reset``."""
        for task in self.tasks:
            task.cancel()
        for writer in self.writers:
            if reset:
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Relay]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        try:
            yield self
        finally:
            server.close()
            self.cut(reset=False)
            await asyncio.gather(*self.tasks, return_exceptions=True)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1):
                    await server.wait_closed()


RELAY_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("tcp-drop.relay-ends-both", "a relay ends both TCP connections (FIN) after a message",
     {"reset": False}),
    ("tcp-drop.relay-resets-both", "a relay resets both TCP connections (RST) after a message",
     {"reset": True}),
]


@family("close", RELAY_CASES)
async def relay_drops(pair: Pair, reset: bool) -> Any:
    """Client and server exchange a message, then the TCP connections between them end."""
    cut = asyncio.Event()

    async def body(ws: Any) -> Any:
        echoed = await attempt(pair, ws.recv())
        await ws.send("hello back")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(pair.timeout):
                await cut.wait()
        return {"echoed": echoed, **await after_drop(pair, ws)}

    recorder = Recorder(body)
    async with pair.serving(recorder) as server:
        relay = Relay(next(iter(server.sockets)).getsockname()[1])
        async with relay.running(), pair.connect(relay.url) as ws:
            await ws.send("hello")
            echoed = await attempt(pair, ws.recv())
            relay.cut(reset)
            cut.set()
            client = {"echoed": echoed, **await after_drop(pair, ws)}
            server_side = await recorder.wait(pair)
    return {"client": client, "server": server_side}


# What the raw peer sends before ending TCP: a text frame's payload, and how much of the frame
# goes out: all of it, its first ``head`` bytes, or all but its last ``short`` bytes.
RAW_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("tcp-drop.after-message", "the peer sends a message, then closes TCP",
     {"payload": b"last", "messages": 1}),
    ("tcp-drop.at-once", "the peer closes TCP right after the opening handshake",
     {"payload": None, "messages": 0}),
    ("tcp-drop.mid-frame-header", "the peer closes TCP after the first byte of a frame",
     {"payload": b"cut", "head": 1, "messages": 0}),
    ("tcp-drop.mid-frame-payload", "the peer closes TCP in the middle of a frame's payload",
     {"payload": b"0123456789", "short": 4, "messages": 0}),
    ("tcp-drop.half-close", "the peer half-closes TCP (EOF) after a message, then reads",
     {"payload": b"last", "messages": 1, "half": True}),
]

CLIENT_CASES = [(f"{case_id}.to-client", f"{title} (to the client)", kwargs)
                for case_id, title, kwargs in RAW_CASES]
SERVER_CASES = [(f"{case_id}.to-server", f"{title} (to the server)", kwargs)
                for case_id, title, kwargs in RAW_CASES]


async def end(
    conn: RawConnection,
    payload: bytes | None,
    head: int | None = None,
    short: int = 0,
    half: bool = False,
) -> list[Any]:
    """Send the frame (or part of it), then close TCP, or half-close it and read until EOF.

    The frame is masked by a raw client, as a client's frames are.
    """
    if payload is not None:
        data = encode_frame(OP_TEXT, payload, mask=conn.mask)
        await conn.send(data[:head] if head is not None else data[: len(data) - short])
    if not half:
        await conn.aclose()
        return [{"closed": True}]
    conn.writer.write_eof()
    seen, eof = await conn.read_until_eof()
    return [*(frame.trace() for frame in seen), {"eof": eof}]


@family("close", CLIENT_CASES, sides="client")
async def raw_server_drops(pair: Pair, messages: int, **kwargs: Any) -> Any:
    """A raw server ends TCP without a closing handshake; what the client sees."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        seen.extend(await end(conn, **kwargs))

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        client = await after_drop(pair, ws, messages)
    return {"client": client, "peer_read": seen}


@family("close", SERVER_CASES, sides="server")
async def raw_client_drops(pair: Pair, messages: int, **kwargs: Any) -> Any:
    """A raw client ends TCP without a closing handshake; what the server handler sees."""

    async def body(ws: Any) -> Any:
        return await after_drop(pair, ws, messages)

    recorder = Recorder(body)
    async with pair.serve(recorder) as url, pair.connect_raw(url) as conn:
        seen = await end(conn, **kwargs)
        server = await recorder.wait(pair)
    return {"server": server, "peer_read": seen}
