"""send() paths: frame types of fragments, waiting, cancellation, close, ping and flow control."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from .. import trace
from ..raw import OP_PONG, RawConnection
from ..scenario import Pair, family, scenario
from ._shapes import Recorder, closed, frames_until_close
from .send import agen

FRAGMENT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("send-paths.iterable-str-text-false", "an iterable of str with text=False is binary",
     {"chunks": ["a", "é"], "text": False}),
    ("send-paths.iterable-bytes-text-true", "an iterable of bytes with text=True is text",
     {"chunks": [b"a", b"b"], "text": True}),
    ("send-paths.iterable-str-text-true", "an iterable of str with text=True is text",
     {"chunks": ["a", "b"], "text": True}),
    ("send-paths.iterable-bytes-text-false", "an iterable of bytes with text=False is binary",
     {"chunks": [b"a", b"b"], "text": False}),
    ("send-paths.iterable-buffers", "an iterable of bytearray and memoryview fragments",
     {"chunks": [bytearray(b"ab"), memoryview(b"cd")]}),
    ("send-paths.iterable-one-chunk", "an iterable of one str is a fragment and an empty end",
     {"chunks": ["only"]}),
    ("send-paths.iterable-int-first", "an iterable starting with an int fails before sending",
     {"chunks": [1, "a"]}),
    ("send-paths.iterable-str-then-int", "an iterable of str then an int fails mid-message",
     {"chunks": ["a", 2]}),
    ("send-paths.async-str-text-false", "an async iterable of str with text=False is binary",
     {"chunks": ["a", "é"], "text": False, "asynchronous": True}),
    ("send-paths.async-bytes-text-true", "an async iterable of bytes with text=True is text",
     {"chunks": [b"a", b"b"], "text": True, "asynchronous": True}),
    ("send-paths.async-str-text-true", "an async iterable of str with text=True is text",
     {"chunks": ["a", "b"], "text": True, "asynchronous": True}),
    ("send-paths.async-bytes", "an async iterable of bytes is one binary message",
     {"chunks": [b"a", b"bc", b"d"], "asynchronous": True}),
    ("send-paths.async-buffers", "an async iterable of bytearray and memoryview fragments",
     {"chunks": [bytearray(b"ab"), memoryview(b"cd")], "asynchronous": True}),
    ("send-paths.async-bytes-text-false", "an async iterable of bytes with text=False is binary",
     {"chunks": [b"a", b"b"], "text": False, "asynchronous": True}),
    ("send-paths.async-int-first", "an async iterable starting with an int fails the connection",
     {"chunks": [1, 2], "asynchronous": True}),
    ("send-paths.async-none-first", "an async iterable starting with None fails the connection",
     {"chunks": [None], "asynchronous": True}),
    ("send-paths.async-bytes-then-str", "an async iterable of bytes then str fails mid-message",
     {"chunks": [b"a", "b"], "asynchronous": True}),
    ("send-paths.async-str-then-int", "an async iterable of str then an int fails mid-message",
     {"chunks": ["a", 3], "asynchronous": True}),
]


@family("send", FRAGMENT_CASES, sides="client")
async def fragments(
    pair: Pair, chunks: list[Any], text: bool | None = None, asynchronous: bool = False
) -> Any:
    """The client sends a fragmented message; a raw server records the frames until EOF."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        seen.extend(await frames_until_close(conn))

    async with pair.serve_raw(script) as server:
        async with pair.connect(server.url) as ws:
            message: Any = agen(chunks) if asynchronous else iter(chunks)
            sent = await pair.catch(ws.send(message, text=text))
            after = await pair.catch(ws.send("after"))
        state = closed(ws)
    return {"send": sent, "after": after, "closed": state, "frames": seen}


async def gated(chunks: list[Any], gate: asyncio.Event) -> AsyncIterator[Any]:
    """Yield the first chunk, wait for ``gate``, then yield the others."""
    yield chunks[0]
    await gate.wait()
    for chunk in chunks[1:]:
        yield chunk


@scenario("send", sides="client")
async def send_waits_for_fragmented_message(pair: Pair) -> Any:
    """send() during a fragmented send() waits until the last fragment is sent."""
    seen: list[Any] = []
    gate = asyncio.Event()

    async def script(conn: RawConnection) -> None:
        seen.extend(await frames_until_close(conn))

    async with pair.serve_raw(script) as server:
        async with pair.connect(server.url) as ws:
            first = asyncio.ensure_future(ws.send(gated(["a", "b"], gate)))
            await asyncio.sleep(0.05)
            second = asyncio.ensure_future(ws.send(b"next"))
            third = asyncio.ensure_future(ws.send(["c", "d"]))
            await asyncio.sleep(0.05)
            waiting = [first.done(), second.done(), third.done()]
            gate.set()
            outcomes = [await pair.catch(task) for task in (first, second, third)]
        state = closed(ws)
    return {"waiting": waiting, "send": outcomes, "closed": state, "frames": seen}


@scenario("send", sides="client")
async def send_after_cancelled_fragments(pair: Pair) -> Any:
    """After a fragmented send() is canceled, data can't be sent; control frames still can."""
    seen: list[Any] = []
    never = asyncio.Event()

    async def script(conn: RawConnection) -> None:
        seen.extend(await frames_until_close(conn))

    async with pair.serve_raw(script) as server:
        async with pair.connect(server.url) as ws:
            task = asyncio.ensure_future(ws.send(gated(["half", "never"], never)))
            await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.wait([task], timeout=pair.timeout)
            outcomes = {
                "str": await pair.catch(ws.send("text")),
                "bytes": await pair.catch(ws.send(b"binary")),
                "iterable": await pair.catch(ws.send(["x", "y"])),
                "empty": await pair.catch(ws.send([])),
                "pong": await pair.catch(ws.pong(b"unsolicited")),
                "state": trace.state(ws),
            }
            close = await pair.catch(ws.close())
        state = closed(ws)
    return {
        "cancelled": task.cancelled(),
        "after": outcomes,
        "close": close,
        "closed": state,
        "frames": seen,
    }


@scenario("close", sides="client")
async def close_during_fragmented_message(pair: Pair) -> Any:
    """close() while a fragmented message is being sent fails the connection with 1011."""
    seen: list[Any] = []
    gate = asyncio.Event()

    async def script(conn: RawConnection) -> None:
        seen.extend(await frames_until_close(conn))

    async with pair.serve_raw(script) as server:
        async with pair.connect(server.url) as ws:
            task = asyncio.ensure_future(ws.send(gated([b"a", b"b"], gate)))
            await asyncio.sleep(0.05)
            close = await pair.catch(ws.close())
            gate.set()
            sent = await pair.catch(task)
            after = await pair.catch(ws.send("late"))
        state = closed(ws)
    return {"close": close, "send": sent, "after": after, "closed": state, "frames": seen}


@scenario("close", sides="client")
async def close_without_code(pair: Pair) -> Any:
    """close(None) sends an empty close frame; close(None, reason) is a ProtocolError."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        seen.extend(await frames_until_close(conn))

    async with pair.serve_raw(script) as server:
        async with pair.connect(server.url) as ws:
            with_reason = await pair.catch(ws.close(None, "why"))
            state = trace.state(ws)
            without = await pair.catch(ws.close(None))
            after = await pair.catch(ws.send("late"))
        final = closed(ws)
    return {
        "with_reason": with_reason,
        "state": state,
        "close": without,
        "after": after,
        "closed": final,
        "frames": seen,
    }


@scenario("close", sides="server")
async def server_close_without_code(pair: Pair) -> Any:
    """The server's close(None) sends an empty close frame, which a raw client echoes."""

    async def body(ws: Any) -> Any:
        rejected = await pair.catch(ws.close(None, "why"))
        await ws.close(None)
        return {"rejected": rejected, "closed": closed(ws)}

    recorder = Recorder(body)
    async with pair.serve(recorder) as url, pair.connect_raw(url) as conn:
        frames, _ = await conn.close_handshake()
        server = await recorder.wait(pair)
    return {"server": server, "frames": [frame.trace() for frame in frames]}


CONTROL_TYPES: list[tuple[str, str, dict[str, Any]]] = [
    ("send-paths.ping-int", "ping(42) is a TypeError", {"method": "ping", "data": 42}),
    ("send-paths.ping-list", "ping([1]) is a TypeError", {"method": "ping", "data": [1]}),
    ("send-paths.pong-int", "pong(42) is a TypeError", {"method": "pong", "data": 42}),
    ("send-paths.pong-none", "pong(None) is a TypeError", {"method": "pong", "data": None}),
    ("send-paths.ping-bytearray", "ping(bytearray) is sent as bytes",
     {"method": "ping", "data": bytearray(b"ba")}),
    ("send-paths.pong-memoryview", "pong(memoryview) is sent as bytes",
     {"method": "pong", "data": memoryview(b"xmvx")[1:3]}),
    ("send-paths.pong-str", "pong(str) is sent as UTF-8", {"method": "pong", "data": "é"}),
]


@family("ping", CONTROL_TYPES, sides="client")
async def control_payload_types(pair: Pair, method: str, data: Any) -> Any:
    """ping() or pong() with a payload of some type; a raw server records the frames."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        seen.extend(await frames_until_close(conn, answer_close=True))

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        outcome = await pair.catch(getattr(ws, method)(data))
        if "result" in outcome:
            outcome = {"result": "sent"}
        state = trace.state(ws)
    return {"outcome": outcome, "state": state, "frames": seen}


@scenario("ping", sides="client")
async def cancelled_ping_waiter(pair: Pair) -> Any:
    """A pong for a ping whose waiter was canceled still sets latency and acknowledges it."""

    async def script(conn: RawConnection) -> None:
        pings: list[bytes] = []
        while len(pings) < 2:
            frame = await conn.read_frame()
            if frame is None:
                return
            pings.append(frame.payload)
        for payload in pings:
            await conn.send_frame(OP_PONG, payload)
        await conn.close_handshake()

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        first = await ws.ping(b"first")
        first.cancel()
        second = await ws.ping(b"second")
        latency = await pair.catch(second)
        again = await pair.catch(ws.ping(b"first"))
        measured = ws.latency > 0
    return {
        "first": first.cancelled(),
        "second": "result" in latency,
        "latency": measured,
        "again": "result" in again,
    }


@scenario("close", sides="client")
async def send_while_closing_without_timeout(pair: Pair) -> Any:
    """close_timeout=None: send() while the server closes waits for TCP to close, then raises."""

    async def script(conn: RawConnection) -> None:
        await conn.send_close(1001, "bye")
        await conn.read_frame()
        await asyncio.sleep(0.2)
        await conn.aclose()

    async with pair.serve_raw(script) as server:
        async with pair.connect(server.url, close_timeout=None) as ws:
            async with asyncio.timeout(pair.timeout):
                while ws.state.name == "OPEN":
                    await asyncio.sleep(0.01)
            state = trace.state(ws)
            sent = await pair.catch(ws.send("late"))
            received = await pair.catch(ws.recv())
        final = closed(ws)
    return {"state": state, "send": sent, "recv": received, "closed": final}


@scenario("close")
async def close_without_timeout(pair: Pair) -> Any:
    """close_timeout=None on both sides: a normal closing handshake completes."""

    async def body(ws: Any) -> Any:
        received = [await pair.catch(ws.recv()) for _ in range(2)]
        await pair.catch(ws.wait_closed())
        return {"recv": received, "closed": closed(ws)}

    recorder = Recorder(body)
    async with (
        pair.serve(recorder, close_timeout=None) as url,
        pair.connect(url, close_timeout=None) as ws,
    ):
        await ws.send("before")
        close = await pair.catch(ws.close(4000, "done"))
        state = closed(ws)
    return {"close": close, "client": state, "server": await recorder.wait(pair)}


def headers(data: bytes) -> list[Any]:
    """Opcode, fin and payload length of each frame in ``data``, without unmasking payloads."""
    result = []
    offset = 0
    while offset < len(data):
        first, second = data[offset], data[offset + 1]
        length, offset = second & 0x7F, offset + 2
        if length >= 126:
            width = 2 if length == 126 else 8
            length = int.from_bytes(data[offset : offset + width], "big")
            offset += width
        offset += (4 if second & 0x80 else 0) + length
        result.append([first & 0x0F, bool(first & 0x80), length])
    return result


@scenario("limits", sides="client")
async def send_large_message_drains(pair: Pair) -> Any:
    """send() of 8 MiB to a peer that reads late waits until the write buffer drains."""
    size = 2**23
    # Each message and the length of its masked frames: one frame, or a first fragment,
    # a one-byte continuation and an empty final frame.
    fragmented = 14 + size + 7 + 6
    messages: list[tuple[Any, int]] = [
        (b"x" * size, 14 + size),
        (["y" * size, "z"], fragmented),
        (agen([b"a" * size, b"b"]), fragmented),
    ]
    gates = [asyncio.Event() for _ in messages]
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        for gate, (_, length) in zip(gates, messages, strict=True):
            async with asyncio.timeout(pair.timeout):
                await gate.wait()
            async with asyncio.timeout(10):
                seen.extend(headers(await conn.reader.readexactly(length)))
        frames, ended = await conn.close_handshake()
        seen.extend([*(frame.trace() for frame in frames), ended])

    async with pair.serve_raw(script) as server:
        async with pair.connect(server.url, write_limit=2**12) as ws:
            outcomes = []
            for (message, _), gate in zip(messages, gates, strict=True):
                task = asyncio.ensure_future(ws.send(message))
                await asyncio.sleep(0.1)
                blocked = not task.done()
                gate.set()
                outcomes.append([blocked, await pair.catch(task, timeout=10)])
        state = closed(ws)
    return {"send": outcomes, "closed": state, "frames": seen}


def pinging(base: type, calls: list[Any], fail: bool) -> type:
    """A subclass of ``base`` whose ping() records its calls, then fails or sends the ping."""

    class Pinging(base):  # type: ignore[misc]  # base: a target's class, known at run time
        async def ping(self, data: Any = None) -> Any:
            calls.append(data)
            if fail:
                raise RuntimeError("no ping today")
            return await super().ping(data)

    return Pinging


@family("keepalive", [
    ("send-paths.keepalive-through-ping", "keepalive pings go through an overridden ping()",
     {"fail": False}),
    ("send-paths.keepalive-ping-fails", "an overridden ping() failing stops keepalive, logged",
     {"fail": True}),
])
async def keepalive_overridden_ping(pair: Pair, fail: bool) -> Any:
    """A client whose ClientConnection subclass overrides ping(), with a fast keepalive."""
    calls: list[Any] = []
    custom = pinging(pair.client_module.ClientConnection, calls, fail)

    async def body(ws: Any) -> Any:
        return [await ws.recv() for _ in range(2)]

    recorder = Recorder(body)
    async with pair.serve(recorder, ping_interval=None) as url, pair.connect(
        url, create_connection=custom, ping_interval=0.05, ping_timeout=0.5
    ) as ws:
        with pair.watching_logs() as logs:
            await ws.send("before")
            await asyncio.sleep(0.3)
            await ws.send("after")
            # Before the handler returns: then the server closes, at a time of its own.
            state = trace.state(ws)
            server = await recorder.wait(pair)
    errors = [
        entry
        for entries in logs.trace("websockets.client").values()
        for entry in entries
        if entry["level"] != "DEBUG"
    ]
    return {
        "calls": calls[:2],
        "state": state,
        "server": server,
        "logs": errors,
    }
