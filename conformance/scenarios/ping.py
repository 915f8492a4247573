"""ping(), pong() and latency, observed by a raw peer or the other target."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from ..raw import OP_PING, OP_PONG, RawConnection
from ..scenario import Pair, family, scenario
from ._shapes import closed, echo, hold


def latency_shape(value: object) -> Any:
    """A latency as its type and sign, which are stable unlike its value."""
    return {"type": type(value).__name__, "non_negative": isinstance(value, float) and value >= 0}


async def latency(pair: Pair, waiter: Any) -> Any:
    """Shape of the latency a pong waiter resolves to, or the exception it raises."""
    outcome = await pair.catch(waiter)
    return latency_shape(outcome["result"]) if "result" in outcome else outcome


async def pong_first_pings(conn: RawConnection, answer: int) -> list[Any]:
    """Read pings; answer the ``answer``-th one (1-based) with a pong; then close."""
    seen: list[Any] = []
    for index in range(answer):
        frame = await conn.read_frame()
        if frame is None:
            break
        seen.append({"opcode": frame.opcode, "length": len(frame.payload)})
        if index + 1 == answer and frame.opcode == OP_PING:
            await conn.send_frame(OP_PONG, frame.payload)
    frames, _ = await conn.close_handshake()
    return [*seen, *(frame.trace() for frame in frames)]


@scenario("ping")
async def ping_latency(pair: Pair) -> Any:
    """await ping() resolves to a float latency; latency is 0 before and positive after."""
    async with pair.serve(hold) as url, pair.connect(url) as ws:
        before = ws.latency
        waiter = await ws.ping()
        result = await latency(pair, waiter)
        return {
            "before": before,
            "result": result,
            "property": latency_shape(ws.latency),
            "property_positive": ws.latency > 0,
        }


@scenario("ping", sides="client")
async def ping_payloads(pair: Pair) -> Any:
    """ping(data) sends the payload: bytes as-is, str as UTF-8, none as 4 random bytes."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        for _ in range(3):
            frame = await conn.read_frame()
            if frame is not None:
                seen.append(frame.trace() if len(frame.payload) != 4 else {"random": 4})
                await conn.send_frame(OP_PONG, frame.payload)
        await conn.close_handshake()

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        outcomes = []
        for data in (b"bin", "têxt", None):
            waiter = await ws.ping(data)
            outcomes.append(await latency(pair, waiter))
    return {"outcomes": outcomes, "peer_read": seen}


@scenario("ping", sides="client")
async def ping_duplicate_payload(pair: Pair) -> Any:
    """A second ping with the payload of an unanswered one raises."""

    async def script(conn: RawConnection) -> None:
        await conn.close_handshake()

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        first = await ws.ping(b"same")
        second = await pair.catch(ws.ping(b"same"))
        return {"first_awaitable": inspect.isawaitable(first), "second": second}


@scenario("ping", sides="client")
async def pong_acknowledges_earlier_pings(pair: Pair) -> Any:
    """A pong answering the latest ping also resolves earlier pings."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        seen.extend(await pong_first_pings(conn, answer=2))

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        first = await ws.ping(b"one")
        second = await ws.ping(b"two")
        results = [await latency(pair, waiter) for waiter in (first, second)]
    return {"results": results, "peer_read": seen}


@scenario("ping", sides="client")
async def pong_sends_frame(pair: Pair) -> Any:
    """pong(data) sends an unsolicited pong with that payload."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        frames, _ = await conn.close_handshake()
        seen.extend(frame.trace() for frame in frames)

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        outcomes = [await pair.catch(ws.pong(b"p")), await pair.catch(ws.pong("q"))]
    return {"outcomes": outcomes, "peer_read": seen}


@scenario("ping", sides="client")
async def peer_ping_answered(pair: Pair) -> Any:
    """A ping from the peer is answered with a pong carrying the same payload."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        await conn.send_frame(OP_PING, b"hello")
        frame = await conn.read_frame()
        seen.append(None if frame is None else frame.trace())
        await conn.close_handshake()

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        await asyncio.sleep(0.1)
    return {"peer_read": seen, "closed": closed(ws)}


@scenario("ping")
async def ping_after_close(pair: Pair) -> Any:
    """ping() and pong() after close raise ConnectionClosedOK."""
    async with pair.serve(hold) as url, pair.connect(url) as ws:
        await ws.close()
        return {"ping": await pair.catch(ws.ping()), "pong": await pair.catch(ws.pong())}


OVERSIZED_CONTROL: list[tuple[str, str, dict[str, Any]]] = [
    ("ping.oversized-ping", "ping() with 126 bytes raises and leaves the connection open",
     {"call": "ping", "argument": b"p" * 126}),
    ("ping.oversized-pong", "pong() with 126 bytes raises and leaves the connection open",
     {"call": "pong", "argument": b"p" * 126}),
    ("close.oversized-reason", "close() with a 124-byte reason raises and leaves it open",
     {"call": "close", "argument": "r" * 124}),
]


@family("ping", OVERSIZED_CONTROL)
async def oversized_control_frame(pair: Pair, call: str, argument: Any) -> Any:
    """A control frame over 125 bytes is refused before anything is sent."""
    async with pair.serve(echo) as url, pair.connect(url) as ws:
        if call == "close":
            outcome = await pair.catch(ws.close(1000, argument))
        else:
            outcome = await pair.catch(getattr(ws, call)(argument))
        await ws.send("still open")
        return {"outcome": outcome, "echo": await pair.catch(ws.recv()), "state": closed(ws)}
