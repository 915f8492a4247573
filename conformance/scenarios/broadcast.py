"""broadcast(): message types, skipped connections, logged and raised failures."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from .. import trace
from ..scenario import LogWatch, Pair, family, scenario
from ._shapes import closed, hold

TYPE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("broadcast.str", "a str is broadcast as text", {"message": "héllo"}),
    ("broadcast.bytes", "bytes are broadcast as binary", {"message": b"\x00\xff"}),
    ("broadcast.bytearray", "a bytearray is broadcast as binary", {"message": bytearray(b"ab")}),
    ("broadcast.memoryview", "a memoryview is broadcast as binary",
     {"message": memoryview(b"abcd")[1:3]}),
    ("broadcast.str-text-false", "text=False broadcasts a str as binary",
     {"message": "hi", "text": False}),
    ("broadcast.str-text-true", "text=True broadcasts a str as text",
     {"message": "hi", "text": True}),
    ("broadcast.bytes-text-true", "text=True broadcasts bytes as text",
     {"message": b"hi", "text": True}),
    ("broadcast.bytes-text-false", "text=False broadcasts bytes as binary",
     {"message": b"hi", "text": False}),
    ("broadcast.empty-str", "an empty str is broadcast as an empty text message",
     {"message": ""}),
    ("broadcast.raise-exceptions-ok", "raise_exceptions=True when every write succeeds",
     {"message": "ok", "raise_exceptions": True}),
    ("broadcast.int", "an int is not a message", {"message": 42}),
    ("broadcast.list", "a list of fragments is not a message", {"message": ["a", "b"]}),
    ("broadcast.dict", "a dict is not a message", {"message": {"a": 1}}),
    ("broadcast.none", "None is not a message", {"message": None}),
]


# A logged exception names its class with the module of the library that raised it: the
# library's name is replaced.
QUALIFIED = re.compile(r"\b[\w.]+\.exceptions\.(\w+)")


def server_logs(logs: LogWatch) -> Any:
    """What the server logged, with the library's name left out of exception classes."""
    result = logs.trace("websockets.server")
    for entries in result.values():
        for entry in entries:
            entry["message"] = QUALIFIED.sub(r"LIBRARY.exceptions.\1", entry["message"])
    return result


def group(exc: BaseException) -> Any:
    """An exception group with each exception's class, message and cause."""
    result = trace.exception(exc)
    if isinstance(exc, BaseExceptionGroup):
        result["exceptions"] = [
            {
                **trace.exception(sub),
                "cause": None if sub.__cause__ is None else trace.exception(sub.__cause__),
            }
            for sub in exc.exceptions
        ]
    return result


def call(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Outcome of a synchronous call as trace data, groups with their exceptions."""
    try:
        return {"result": trace.data(function(*args, **kwargs))}
    except Exception as exc:
        return group(exc)


class Handlers:
    """A server handler keeping each server-side connection open until told to stop."""

    def __init__(self) -> None:
        self.connections: list[Any] = []
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, ws: Any) -> None:
        self.connections.append(ws)
        self.arrived.set()
        with contextlib.suppress(Exception):
            await self.release.wait()

    async def wait_for(self, count: int, pair: Pair) -> None:
        async with asyncio.timeout(pair.timeout):
            while len(self.connections) < count:
                self.arrived.clear()
                await self.arrived.wait()


@family("send", TYPE_CASES)
async def broadcast_types(pair: Pair, message: Any, **kwargs: Any) -> Any:
    """broadcast() a message to two clients, which report what they receive."""
    async with pair.serving(hold) as server:
        url = pair.url(server)
        async with pair.connect(url) as first, pair.connect(url) as second:
            async with asyncio.timeout(pair.timeout):
                while len(server.connections) < 2:
                    await asyncio.sleep(0.01)
            outcome = call(pair.server_module.broadcast, server.connections, message, **kwargs)
            received = []
            if "result" in outcome:
                for ws in (first, second):
                    received.append(await pair.catch(ws.recv()))
    return {"broadcast": outcome, "received": received}


@contextlib.asynccontextmanager
async def clients(pair: Pair, handlers: Handlers, count: int) -> AsyncIterator[list[Any]]:
    """Serve ``handlers`` and connect ``count`` clients, one after the other."""
    async with pair.serve(handlers) as url, contextlib.AsyncExitStack() as stack:
        connected = []
        for index in range(count):
            connected.append(await stack.enter_async_context(pair.connect(url)))
            await handlers.wait_for(index + 1, pair)
        try:
            yield connected
        finally:
            handlers.release.set()


@scenario("send")
async def broadcast_skips_closed(pair: Pair) -> Any:
    """broadcast() skips a connection that is closed, and reaches the open one."""
    handlers = Handlers()
    async with clients(pair, handlers, 2) as (first, second):
        await first.close()
        await pair.catch(handlers.connections[0].wait_closed())
        with pair.watching_logs() as logs:
            outcomes = [
                call(
                    pair.server_module.broadcast,
                    handlers.connections,
                    "to open ones",
                    raise_exceptions=raise_exceptions,
                )
                for raise_exceptions in (False, True)
            ]
        received = [await pair.catch(second.recv()) for _ in range(2)]
        states = [trace.state(ws) for ws in handlers.connections]
    return {
        "broadcast": outcomes,
        "received": received,
        "first": closed(first),
        "states": states,
        "logs": server_logs(logs),
    }


@scenario("send")
async def broadcast_during_fragmented_send(pair: Pair) -> Any:
    """broadcast() skips a connection sending a fragmented message: a warning, or raised."""
    handlers = Handlers()
    resume = asyncio.Event()

    async def fragments() -> AsyncIterator[str]:
        yield "frag"
        await resume.wait()
        yield "ment"

    broadcast = pair.server_module.broadcast
    async with clients(pair, handlers, 2) as (busy, idle):
        sending = asyncio.ensure_future(handlers.connections[0].send(fragments()))
        await asyncio.sleep(0.05)
        with pair.watching_logs() as logs:
            logged = call(broadcast, handlers.connections, "logged")
            raised = call(broadcast, handlers.connections, b"raised", raise_exceptions=True)
        resume.set()
        sent = await pair.catch(sending)
        after = call(broadcast, handlers.connections, "after", raise_exceptions=True)
        busy_received = [await pair.catch(busy.recv()) for _ in range(2)]
        idle_received = [await pair.catch(idle.recv()) for _ in range(3)]
    return {
        "logged": logged,
        "raised": raised,
        "sent": sent,
        "after": after,
        "busy": busy_received,
        "idle": idle_received,
        "logs": server_logs(logs),
    }


@scenario("send")
async def broadcast_after_cancelled_fragments(pair: Pair) -> Any:
    """A connection whose fragmented send was canceled can't write a broadcast: warned, raised."""
    handlers = Handlers()
    never = asyncio.Event()

    async def fragments() -> AsyncIterator[bytes]:
        yield b"half"
        await never.wait()
        yield b"never"

    broadcast = pair.server_module.broadcast
    async with clients(pair, handlers, 2) as (stuck, fine):
        sending = asyncio.ensure_future(handlers.connections[0].send(fragments()))
        await asyncio.sleep(0.05)
        sending.cancel()
        await asyncio.wait([sending], timeout=pair.timeout)
        with pair.watching_logs() as logs:
            logged = call(broadcast, handlers.connections, "logged")
            raised = call(broadcast, handlers.connections, b"raised", raise_exceptions=True)
            text = call(broadcast, handlers.connections, b"text", text=True)
        fine_received = [await pair.catch(fine.recv()) for _ in range(3)]
        stuck_received = await pair.catch(stuck.recv(), timeout=0.2)
        states = [trace.state(ws) for ws in handlers.connections]
    return {
        "cancelled": sending.cancelled(),
        "logged": logged,
        "raised": raised,
        "text": text,
        "fine": fine_received,
        "stuck": stuck_received,
        "states": states,
        "logs": server_logs(logs),
    }


@scenario("send", sides="server")
async def broadcast_large_message(pair: Pair) -> Any:
    """broadcast() of 8 MiB to a client that reads late: buffered past write_limit, then sent."""
    size = 2**23
    handlers = Handlers()
    broadcast = pair.server_module.broadcast
    async with pair.serve(handlers, write_limit=2**12) as url, pair.connect_raw(url) as conn:
        await handlers.wait_for(1, pair)
        messages = (b"x" * size, "y")
        outcomes = [call(broadcast, handlers.connections, message) for message in messages]
        await asyncio.sleep(0.1)
        frames = []
        for _ in range(2):
            frame = await conn.read_frame(timeout=10)
            frames.append(None if frame is None else [frame.opcode, frame.fin, len(frame.payload)])
        handlers.release.set()
        await conn.close_handshake()
    return {"broadcast": outcomes, "frames": frames}
