"""Faults: resets, half-open peers, stalled readers, slow handshakes, shutdown, cancellation.

Each fault's trace is what the target does under it, compared with websockets' like any
scenario's, in asyncio's debug mode. Bounds on timing ("closed within ping_interval +
ping_timeout") are recorded as booleans in the trace, so the reference is held to them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any, TypedDict

from .. import trace
from ..raw import CLIENT_MASK, OP_BINARY, RawConnection, encode_frame
from ..reliability import harness
from ..reliability.faults import reset, silent_reader
from ..scenario import Pair, scenario
from ._shapes import Recorder, echo, hold


class Keepalive(TypedDict):
    """Keepalive and closing timeouts, in seconds, as keyword arguments of serve() and connect()."""

    ping_interval: float
    ping_timeout: float
    close_timeout: float


# How long a prompt reaction may take on a loaded 2-core machine.
SLACK = 1.0
PING: Keepalive = {"ping_interval": 0.3, "ping_timeout": 0.3, "close_timeout": 0.3}
# The scenario ids' prefix, under which the catalogue declares differences.
PREFIX = "reliability.faults"
HALF_FRAME = encode_frame(OP_BINARY, b"x" * 1000, mask=CLIENT_MASK)[:500]


def elapsed(start: float) -> float:
    return asyncio.get_running_loop().time() - start


@scenario("close", sides="server", prefix=PREFIX, debug=True)
async def reset_to_server(pair: Pair) -> Any:
    """A client resets TCP in the middle of a message the server is receiving."""
    start = 0.0

    async def body(ws: Any) -> Any:
        outcome = await pair.catch(ws.recv())
        return {"recv": outcome, "code": ws.close_code, "prompt": elapsed(start) < SLACK}

    recorder = Recorder(body)
    async with pair.serve(recorder) as url, pair.connect_raw(url) as client:
        await client.send(HALF_FRAME)
        await asyncio.sleep(0.05)
        start = asyncio.get_running_loop().time()
        reset(client)
        return await recorder.wait(pair)


@scenario("close", sides="client", prefix=PREFIX, debug=True)
async def reset_to_client(pair: Pair) -> Any:
    """A server resets TCP in the middle of a message the client is receiving."""

    async def script(connection: RawConnection) -> None:
        await connection.send(encode_frame(OP_BINARY, b"x" * 1000)[:500])
        await asyncio.sleep(0.05)
        reset(connection)

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        start = asyncio.get_running_loop().time()
        outcome = await pair.catch(ws.recv())
        return {"recv": outcome, "code": ws.close_code, "prompt": elapsed(start) < SLACK}


def keepalive_bound() -> float:
    return PING["ping_interval"] + PING["ping_timeout"] + SLACK


@scenario("keepalive", sides="server", prefix=PREFIX, debug=True)
async def half_open_server(pair: Pair) -> Any:
    """A client stops answering pings: the server's keepalive closes the connection."""
    recorder = Recorder(lambda ws: ws.recv())
    async with pair.serve(recorder, **PING) as url, pair.connect_raw(url) as client:
        start = asyncio.get_running_loop().time()
        closing = await silent_reader(client, keepalive_bound() * 2)
        result = await recorder.wait(pair)
    return {
        "recv": result,
        "close_frame_in_time": closing is not None and closing - start < keepalive_bound(),
    }


@scenario("keepalive", sides="client", prefix=PREFIX, debug=True)
async def half_open_client(pair: Pair) -> Any:
    """A server stops answering pings: the client's keepalive closes the connection."""
    closing: list[float | None] = []

    async def script(connection: RawConnection) -> None:
        closing.append(await silent_reader(connection, keepalive_bound() * 2))

    async with pair.serve_raw(script) as server, pair.connect(server.url, **PING) as ws:
        start = asyncio.get_running_loop().time()
        outcome = await pair.catch(ws.recv(), timeout=keepalive_bound() * 2)
        finished = elapsed(start)
    return {
        "recv": outcome,
        "closed_in_time": finished < keepalive_bound() + PING["close_timeout"],
        "close_frame_in_time": bool(closing and closing[0] and closing[0] - start
                                    < keepalive_bound()),
    }


async def stalled_sender(ws: Any, size: int = 1 << 16, limit: int = 2_000) -> dict[str, Any]:
    """Send until a send blocks for 0.5 s (at most ``limit`` messages); check memory."""
    before = harness.rss()
    message = b"\x00" * size
    blocked = False
    for _ in range(limit):
        try:
            async with asyncio.timeout(0.5):
                await ws.send(message)
        except TimeoutError:
            blocked = True
            break
    grown = harness.rss() - before
    return {"blocked": blocked, "memory_bounded": grown < 32 * harness.MIB}


@scenario("send", sides="server", prefix=PREFIX, debug=True)
async def never_reads_server(pair: Pair) -> Any:
    """A client never reads: the server's send blocks at write_limit, memory stays bounded."""
    recorder = Recorder(stalled_sender)
    async with pair.serve(recorder) as url, pair.connect_raw(url):
        async with asyncio.timeout(10):
            await recorder.done.wait()
        return recorder.result


@scenario("send", sides="client", prefix=PREFIX, debug=True)
async def never_reads_client(pair: Pair) -> Any:
    """A server never reads: the client's send blocks at write_limit and is cancelled."""
    stop = asyncio.Event()

    async def script(connection: RawConnection) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(15):
                await stop.wait()

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        try:
            return {"sender": await stalled_sender(ws), "state": trace.state(ws)}
        finally:
            stop.set()


@scenario("handshake", sides="server", prefix=PREFIX, debug=True)
async def slow_handshake(pair: Pair) -> Any:
    """A client sends its handshake one byte per second: closed at open_timeout."""
    open_timeout = 2.0
    request = (
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    async with pair.serve(hold, open_timeout=open_timeout) as url, pair.connect_raw(
        url, handshake=False
    ) as client:
        start = asyncio.get_running_loop().time()

        async def trickle() -> None:
            for byte in request:
                await client.send(bytes([byte]))
                await asyncio.sleep(1.0)

        sender = asyncio.create_task(trickle())
        try:
            async with asyncio.timeout(open_timeout + 2 * SLACK):
                received = await client.reader.read()
            closed = elapsed(start)
        except TimeoutError:
            received, closed = b"", float("inf")
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
    return {
        "response": received.split(b"\r\n", 1)[0],
        "closed_at_open_timeout": open_timeout - 0.1 < closed < open_timeout + SLACK,
    }


@scenario("serve", prefix=PREFIX, debug=True)
async def shutdown_under_load(pair: Pair, clients: int = 20) -> Any:
    """The server shuts down while clients exchange messages: all see 1001, handlers finish."""
    finished = 0

    async def handler(ws: Any) -> None:
        nonlocal finished
        try:
            await echo(ws)
        finally:
            finished += 1

    async def client(url: str, ready: asyncio.Event) -> Any:
        async with pair.connect(url) as ws:
            ready.set()
            for index in range(100_000):
                try:
                    await ws.send(f"m{index}")
                    await ws.recv()
                except Exception as exc:
                    return {"exception": type(exc).__name__, "code": ws.close_code}
        return {"exception": None}

    with harness.capture() as logs:
        async with pair.serving(handler) as server:
            url = pair.url(server)
            events = [asyncio.Event() for _ in range(clients)]
            tasks = [asyncio.create_task(client(url, event)) for event in events]
            async with asyncio.timeout(5):
                await asyncio.gather(*(event.wait() for event in events))
            await asyncio.sleep(0.3)
            server.close()
            async with asyncio.timeout(10):
                outcomes = await asyncio.gather(*tasks)
                await server.wait_closed()
        harness.settle()
        await asyncio.sleep(0)
    return {
        "clients": sorted({json.dumps(outcome, sort_keys=True) for outcome in outcomes}),
        "handlers_finished": finished == clients,
        "errors": logs.errors(),
    }


async def fragments(*parts: str, pause: float = 0.3) -> AsyncIterator[str]:
    """Yield ``parts`` with a pause between them."""
    for index, part in enumerate(parts):
        if index:
            await asyncio.sleep(pause)
        yield part


@scenario("recv", prefix=PREFIX, debug=True)
async def recv_cancelled_waiting(pair: Pair) -> Any:
    """recv() cancelled while nothing arrives; the next message is not lost."""

    async def handler(ws: Any) -> None:
        await ws.recv()
        await ws.send("after")
        await hold(ws)

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        first = await pair.catch(ws.recv(), timeout=0.1)
        await ws.send("go")
        second = await pair.catch(ws.recv())
        return {"first": first, "second": second, "state": trace.state(ws)}


@scenario("recv", prefix=PREFIX, debug=True)
async def recv_cancelled_mid_message(pair: Pair) -> Any:
    """recv() cancelled halfway through a fragmented message; the message is not lost."""

    async def handler(ws: Any) -> None:
        await ws.send(fragments("first half, ", "second half"))
        await hold(ws)

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        first = await pair.catch(ws.recv(), timeout=0.15)
        second = await pair.catch(ws.recv())
        await ws.send("still usable")
        return {"first": first, "second": second, "state": trace.state(ws)}


@scenario("send", prefix=PREFIX, debug=True)
async def send_cancelled_mid_message(pair: Pair) -> Any:
    """send() of a fragmented message cancelled halfway: what both sides see next."""
    recorder = Recorder(lambda ws: ws.recv())
    async with pair.serve(recorder) as url, pair.connect(url) as ws:
        first = await pair.catch(ws.send(fragments("a", "b", pause=5.0)), timeout=0.2)
        after = await pair.catch(ws.send("next"))
        server = await recorder.wait(pair)
        return {"send": first, "next": after, "server": server, "state": trace.state(ws)}
