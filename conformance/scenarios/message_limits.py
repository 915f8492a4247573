"""Limits on incoming messages and their streams, and keepalive pings that get no answer.

recv() caps a message at 4096 fragments (1009 "too many fragments"); recv_streaming() has no
cap, and once it raises the connection accepts no further reads. Keepalive without
``ping_timeout`` keeps pinging a peer that never answers.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable
from typing import Any

from .. import trace
from ..raw import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, RawConnection, close_payload
from ..scenario import Pair, family, scenario
from ._shapes import FrameSpec, Recorder, both_directions, closed, drain, hold, peer_sends

# websockets' default cap on the frames of a message read with recv().
MAX_FRAGMENTS = 4096
CLOSE_OK: FrameSpec = (OP_CLOSE, close_payload(1000), {})


async def caught(pair: Pair, awaitable: Awaitable[object]) -> Any:
    """:meth:`Pair.catch` plus the cause of a ConnectionClosed after sending a close frame.

    The cause says why this side failed the connection (TooManyFragments, UnicodeDecodeError).
    """
    raised: list[BaseException] = []

    async def watched() -> object:
        try:
            return await awaitable
        except Exception as exc:
            raised.append(exc)
            raise

    outcome = await pair.catch(watched())
    if raised and getattr(raised[0], "sent", None) and raised[0].__cause__ is not None:
        outcome["cause"] = trace.exception(raised[0].__cause__)
    return outcome


def fragmented(count: int) -> list[FrameSpec]:
    """One binary message of ``count`` one-byte frames."""
    middle: list[FrameSpec] = [(OP_CONT, b"x", {"fin": False})] * (count - 2)
    return [(OP_BINARY, b"x", {"fin": False}), *middle, (OP_CONT, b"x", {})]


FRAGMENT_CASES = [
    ("message-limits.fragments-over-limit",
     "recv() of a message of 4097 frames fails with 1009",
     {"frames": fragmented(MAX_FRAGMENTS + 1), "streaming": False}),
    ("message-limits.fragments-at-limit", "recv() of a message of 4096 frames",
     {"frames": [*fragmented(MAX_FRAGMENTS), (OP_TEXT, b"after", {}), CLOSE_OK],
      "streaming": False}),
    ("message-limits.fragments-streamed", "recv_streaming() of a message of 5000 frames",
     {"frames": [*fragmented(5000), (OP_TEXT, b"after", {}), CLOSE_OK], "streaming": True}),
]
FRAGMENTS_TO_CLIENT, FRAGMENTS_TO_SERVER = both_directions(FRAGMENT_CASES)


async def fragments_received(
    pair: Pair, frames: list[FrameSpec], to: str, streaming: bool
) -> Any:
    """The target reads a long fragmented message, then recv() until it raises."""

    async def length(ws: Any) -> int:
        return len(await ws.recv())

    async def streamed(ws: Any) -> list[int]:
        sizes = [len(fragment) async for fragment in ws.recv_streaming()]
        return [len(sizes), sum(sizes)]

    async def receive(ws: Any) -> Any:
        first = await caught(pair, streamed(ws) if streaming else length(ws))
        return {"first": first, "then": await drain(pair, ws)}

    return await peer_sends(pair, frames, to=to, receive=receive)


@family("limits", FRAGMENTS_TO_CLIENT, sides="client")
async def raw_server_fragments(pair: Pair, **kwargs: Any) -> Any:
    """A raw server sends a message in many frames; the client reads it."""
    return await fragments_received(pair, **kwargs)


@family("limits", FRAGMENTS_TO_SERVER, sides="server")
async def raw_client_fragments(pair: Pair, **kwargs: Any) -> Any:
    """A raw client sends a message in many frames; the server reads it."""
    return await fragments_received(pair, **kwargs)


SEND_CASES = [
    (f"message-limits.send-{chunks}-chunks-to-{receiver}",
     f"send() of {chunks} chunks and an empty final frame, read by the {receiver}",
     {"chunks": chunks, "receiver": receiver})
    for chunks in (MAX_FRAGMENTS - 1, MAX_FRAGMENTS)
    for receiver in ("client", "server")
]


@family("limits", SEND_CASES)
async def send_many_chunks(pair: Pair, chunks: int, receiver: str) -> Any:
    """One side sends an iterable of one-byte chunks; the other reads it with recv()."""
    message = [b"x"] * chunks

    async def receive(ws: Any) -> Any:
        async def length() -> int:
            return len(await ws.recv())

        return {"recv": await caught(pair, length()), "closed": closed(ws)}

    async def sender(ws: Any) -> Any:
        # Whether send() returns before the receiver's close frame arrives depends on timing.
        await pair.catch(ws.send(message))
        await hold(ws)
        return closed(ws)

    recorder = Recorder(receive if receiver == "server" else sender)
    async with pair.serve(recorder) as url, pair.connect(url) as ws:
        client = await (receive(ws) if receiver == "client" else sender(ws))
    return {"client": client, "server": await recorder.wait(pair)}


STREAM_FAILURE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("message-limits.streaming-invalid-utf8",
     "recv_streaming(decode=True) meets invalid UTF-8 in the second fragment of a text message",
     {"frames": [(OP_TEXT, b"ok", {"fin": False}), (OP_CONT, b"\xff", {"fin": False}),
                 (OP_CONT, b"tail-data", {})]}),
    ("message-limits.streaming-invalid-utf8-binary",
     "recv_streaming(decode=True) meets invalid UTF-8 in the second fragment of a binary message",
     {"frames": [(OP_BINARY, b"ok", {"fin": False}), (OP_CONT, b"\xff", {"fin": False}),
                 (OP_CONT, b"tail-data", {})]}),
    ("message-limits.streaming-invalid-utf8-first",
     "recv_streaming(decode=True) meets invalid UTF-8 in the first fragment, then a message",
     {"frames": [(OP_TEXT, b"\xff", {"fin": False}), (OP_CONT, b"tail-data", {}),
                 (OP_TEXT, b"next", {})]}),
    ("message-limits.streaming-eof-inside-message",
     "TCP closes inside the message recv_streaming() is reading",
     {"frames": [(OP_TEXT, b"ok", {"fin": False})], "abort": True}),
    ("message-limits.streaming-closed-before-message",
     "the connection closes normally while recv_streaming() waits for a message",
     {"frames": [CLOSE_OK]}),
]
STREAM_TO_CLIENT, STREAM_TO_SERVER = both_directions(STREAM_FAILURE_CASES)


async def stream_then_read(pair: Pair, ws: Any) -> Any:
    """recv_streaming(decode=True) until it raises, then what recv() and recv_streaming() do."""
    fragments: list[Any] = []

    async def stream() -> None:
        async for fragment in ws.recv_streaming(decode=True):
            fragments.append(trace.message(fragment))

    outcome = await caught(pair, stream())
    return {
        "streamed": fragments,
        "outcome": outcome,
        "recv": [await pair.catch(ws.recv()) for _ in range(2)],
        "recv_streaming": await pair.catch(anext(aiter(ws.recv_streaming()))),
    }


@family("recv", STREAM_TO_CLIENT, sides="client")
async def raw_server_stream_fails(pair: Pair, **kwargs: Any) -> Any:
    """A raw server sends frames; recv_streaming() on the client fails, then the client reads."""
    return await peer_sends(pair, **kwargs, receive=functools.partial(stream_then_read, pair))


@family("recv", STREAM_TO_SERVER, sides="server")
async def raw_client_stream_fails(pair: Pair, **kwargs: Any) -> Any:
    """A raw client sends frames; recv_streaming() on the server fails, then the server reads."""
    return await peer_sends(pair, **kwargs, receive=functools.partial(stream_then_read, pair))


def pings_then(frames: list[Any]) -> dict[str, Any]:
    """Whether a silent peer read at least 3 pings (their number varies), and what else."""
    pings = sum(frame.opcode == OP_PING for frame in frames)
    others = [frame.trace() for frame in frames if frame.opcode != OP_PING]
    return {"at_least_3_pings": pings >= 3, "others": others}


@scenario("keepalive", sides="client")
async def client_pings_without_timeout(pair: Pair) -> Any:
    """With ping_timeout=None the client keeps pinging a server that never answers."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        frames, _ = await conn.close_handshake()
        seen.extend(frames)

    async with (
        pair.serve_raw(script) as server,
        pair.connect(server.url, ping_interval=0.05, ping_timeout=None) as ws,
    ):
        await asyncio.sleep(0.5)
        state = closed(ws)
    return {"after_silence": state, "peer_read": pings_then(seen)}


@scenario("keepalive", sides="server")
async def server_pings_without_timeout(pair: Pair) -> Any:
    """With ping_timeout=None the server keeps pinging a client that never answers."""

    async def body(ws: Any) -> Any:
        await asyncio.sleep(0.5)
        return closed(ws)

    recorder = Recorder(body)
    async with (
        pair.serve(recorder, ping_interval=0.05, ping_timeout=None) as url,
        pair.connect_raw(url) as conn,
    ):
        frames, ended = await conn.close_handshake()
        server = await recorder.wait(pair)
    return {"after_silence": server, "peer_read": pings_then(frames), "ended": ended}
