"""recv(), recv_streaming() and async iteration on what the server sends."""

from __future__ import annotations

import asyncio
from typing import Any

from .. import trace
from ..raw import OP_BINARY, OP_CONT, OP_TEXT, RawConnection
from ..scenario import Pair, family, scenario
from ._shapes import closed, hold

DECODE_CASES = [
    (f"recv.{kind}-decode-{decode}".lower(), f"recv(decode={decode}) of a {kind} message",
     {"message": message, "decode": decode})
    for kind, message in (("text", "café"), ("binary", b"caf\xc3\xa9"))
    for decode in (None, True, False)
]


@family("recv", DECODE_CASES)
async def recv_decode(pair: Pair, message: Any, decode: bool | None) -> Any:
    """The server sends one message; the client receives it with a decode option."""

    async def handler(ws: Any) -> None:
        await ws.send(message)
        await hold(ws)

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        return await pair.catch(ws.recv(decode=decode))


STREAM_CASES = [
    (f"recv.streaming-{kind}-decode-{decode}".lower(),
     f"recv_streaming(decode={decode}) of a fragmented {kind} message",
     {"fragments": fragments, "decode": decode})
    for kind, fragments in (("text", ["ab", "cd", ""]), ("binary", [b"\x01", b"\x02\x03"]))
    for decode in (None, True, False)
]


@family("recv", STREAM_CASES)
async def recv_streaming(pair: Pair, fragments: list[Any], decode: bool | None) -> Any:
    """The server sends a fragmented message; the client streams its fragments."""

    async def handler(ws: Any) -> None:
        await ws.send(fragments)
        await hold(ws)

    async with pair.serve(handler) as url, pair.connect(url) as ws:

        async def collect() -> list[Any]:
            return [trace.message(item) async for item in ws.recv_streaming(decode=decode)]

        return await pair.catch(collect())


ITERATION_CASES = [
    (f"recv.iteration-ends-{code}", f"async for after the server closes with {code}",
     {"code": code})
    for code in (1000, 1001, 1011, 4000)
]


@family("recv", ITERATION_CASES)
async def iteration_ends(pair: Pair, code: int) -> Any:
    """async for ends quietly on 1000/1001 and raises ConnectionClosedError otherwise."""

    async def handler(ws: Any) -> None:
        await ws.send("one")
        await ws.send(b"two")
        await ws.close(code, "done")

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        received: list[Any] = []

        async def iterate() -> None:
            async for message in ws:
                received.append(trace.message(message))

        outcome = await pair.catch(iterate())
    return {"received": received, "outcome": outcome, "closed": closed(ws)}


@scenario("recv", sides="client")
async def iteration_abrupt_eof(pair: Pair) -> Any:
    """async for raises ConnectionClosedError when TCP closes without a close frame."""

    async def script(conn: RawConnection) -> None:
        await conn.send_frame(OP_TEXT, b"last")

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        received = []

        async def iterate() -> None:
            async for message in ws:
                received.append(trace.message(message))

        outcome = await pair.catch(iterate())
    return {"received": received, "outcome": outcome, "closed": closed(ws)}


@scenario("recv", sides="both")
async def concurrent_recv(pair: Pair) -> Any:
    """A second concurrent recv() raises ConcurrencyError; the first still gets the message."""
    async def handler(ws: Any) -> None:
        await ws.recv()
        await ws.send("hello")
        await hold(ws)

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        first = asyncio.ensure_future(pair.catch(ws.recv()))
        await asyncio.sleep(0.05)
        second = await pair.catch(ws.recv())
        streaming = await pair.catch(anext(aiter(ws.recv_streaming())))
        await ws.send("go")
        return {"first": await first, "second": second, "streaming": streaming}


@scenario("recv", sides="client")
async def split_fragments_delivered(pair: Pair) -> Any:
    """recv_streaming yields fragments as sent, including a code point split across two."""

    async def script(conn: RawConnection) -> None:
        await conn.send_frame(OP_TEXT, "é".encode()[:1], fin=False)
        await conn.send_frame(OP_CONT, "é".encode()[1:] + b"t", fin=False)
        await conn.send_frame(OP_CONT, b"\xc3", fin=False)
        await conn.send_frame(OP_CONT, b"\xa9", fin=True)
        await conn.send_frame(OP_BINARY, b"\x00", fin=True)
        await conn.close_handshake()

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        streamed = [trace.message(item) async for item in ws.recv_streaming()]
        after = await pair.catch(ws.recv())
    return {"streamed": streamed, "after": after}
