"""Message assembly: canceled recv() and recv_streaming(), and max_queue bounds."""

from __future__ import annotations

import asyncio
from typing import Any

from .. import trace
from ..raw import OP_BINARY, OP_CONT, OP_TEXT, RawConnection
from ..scenario import Pair, family, scenario
from ._shapes import Recorder, closed, drain, hold


async def cancelled(awaitable: Any, delay: float = 0.2) -> Any:
    """Outcome of ``awaitable`` canceled after ``delay`` unless done by then."""
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait([task], timeout=delay)
    if not done:
        task.cancel()
        await asyncio.wait([task], timeout=delay)
        if task.cancelled():
            return "cancelled"
    return await trace.outcome(task)


async def stream(ws: Any, decode: bool | None, fragments: list[Any]) -> Any:
    """Every fragment recv_streaming() yields, gathered in ``fragments`` as they come."""
    async for fragment in ws.recv_streaming(decode):
        fragments.append(trace.message(fragment))
    return fragments


CANCEL_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("assembly.recv-cancelled-mid-message", "recv() canceled after a fragment loses nothing",
     {"reader": "recv", "before": 1}),
    ("assembly.recv-cancelled-after-two-fragments",
     "recv() canceled after two fragments loses nothing",
     {"reader": "recv", "before": 2}),
    ("assembly.recv-cancelled-binary", "recv(decode=True) canceled mid-message, binary fragments",
     {"reader": "recv", "before": 1, "binary": True, "decode": True}),
    ("assembly.recv-cancelled-before-message", "recv() canceled before any frame",
     {"reader": "recv", "before": 0}),
    ("assembly.streaming-cancelled-before-message",
     "recv_streaming() canceled before its first fragment can be called again",
     {"reader": "streaming", "before": 0}),
    ("assembly.streaming-cancelled-mid-message",
     "recv_streaming() canceled after its first fragment leaves recv() unusable",
     {"reader": "streaming", "before": 1}),
]


@family("recv", CANCEL_CASES, sides="client")
async def cancelled_read(
    pair: Pair, reader: str, before: int, binary: bool = False, decode: bool | None = None
) -> Any:
    """A raw server sends ``before`` fragments, the client's read is canceled, then the rest."""
    gate = asyncio.Event()
    fragments = [b"ab", "\N{EURO SIGN}".encode(), b"cd"]
    first = OP_BINARY if binary else OP_TEXT

    async def script(conn: RawConnection) -> None:
        for index, payload in enumerate(fragments):
            if index == before:
                async with asyncio.timeout(pair.timeout):
                    await gate.wait()
            opcode = first if index == 0 else OP_CONT
            await conn.send_frame(opcode, payload, fin=index == len(fragments) - 1)
        await conn.send_frame(OP_TEXT, b"next")
        await conn.close_handshake()

    async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
        streamed: list[Any] = []
        if reader == "recv":
            interrupted = await cancelled(ws.recv(decode))
        else:
            interrupted = await cancelled(stream(ws, decode, streamed))
        gate.set()
        after = await drain(pair, ws, limit=2)
        state = closed(ws)
    return {"interrupted": interrupted, "streamed": streamed, "after": after, "closed": state}


QUEUE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("assembly.max-queue-none", "max_queue=None: no flow control, every message arrives",
     {"max_queue": None}),
    ("assembly.max-queue-none-pair", "max_queue=(None, None): no flow control",
     {"max_queue": (None, None)}),
    ("assembly.max-queue-high-only", "max_queue=(8, None): the low-water mark is 2",
     {"max_queue": (8, None)}),
    ("assembly.max-queue-zero", "max_queue=(0, 0): reading pauses after each frame",
     {"max_queue": (0, 0)}),
    ("assembly.max-queue-one", "max_queue=1: reading pauses above one frame",
     {"max_queue": 1}),
]


@family("limits", QUEUE_CASES)
async def max_queue_bounds(pair: Pair, max_queue: Any) -> Any:
    """The server sends 50 messages, fragmented or not, to a client that reads them late."""

    async def body(ws: Any) -> Any:
        for index in range(50):
            await ws.send(str(index) if index % 5 else [str(index), "-", "x"])
        return await pair.catch(ws.recv())

    recorder = Recorder(body)
    async with pair.serve(recorder) as url, pair.connect(url, max_queue=max_queue) as ws:
        await asyncio.sleep(0.1)
        received = [await pair.catch(ws.recv()) for _ in range(50)]
        await ws.send("done")
        server = await recorder.wait(pair)
    expected = [{"result": ["str", str(i) if i % 5 else f"{i}-x"]} for i in range(50)]
    return {"in_order": received == expected, "server": server}


@scenario("limits")
async def connect_max_queue_negative_low(pair: Pair) -> Any:
    """connect(max_queue=(4, -1)): a negative low-water mark is a ValueError."""

    async with pair.serve(hold) as url:
        try:
            call = pair.client_module.connect(url, max_queue=(4, -1))
        except Exception as exc:
            return {"call": trace.exception(exc)}
        try:
            ws = await asyncio.wait_for(call, pair.timeout)
        except Exception as exc:
            return {"open": trace.exception(exc)}
        await ws.close()
        return {"open": closed(ws)}
