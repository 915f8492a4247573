"""Generated frame sequences from a raw peer: targets behave like the reference.

A raw client sends a sequence to a server running a recording handler, or a raw server sends
one to a client, delivered in generated chunks. The trace holds the messages recv() returned
in order with their types, the exception that ended it, the final close code and reason, and
what the raw peer read back (pongs, the close frame) and whether the TCP connection ended.
Traces are shaped like the protocol scenarios' so the catalogue declares differences for both.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
from collections.abc import AsyncIterator
from typing import Any

from hypothesis import example, given

from conformance import raw
from conformance.raw import OP_BINARY, OP_CLOSE, OP_PING, OP_TEXT, Frame, RawConnection
from conformance.scenario import Pair, generated_kind, register_property
from conformance.scenarios._shapes import closed, drain
from conformance.targets import REFERENCE, Target

from . import strategies
from .differential import Harness, Mailbox, Tally, logged, serving, short
from .strategies import Plan, Side

# Catalogue ids of the properties: protocol scenarios, so protocol differences apply; and the
# kinds of examples the catalogue may declare differences for (see scenario()).
TO_SERVER, TO_CLIENT = "protocol.generated.to-server", "protocol.generated.to-client"
KINDS = ("close-inside-fragments", "read-ahead")
# recv() calls a target gets before the test stops asking.
RECV_LIMIT = 16
# Bound on a pause waiting for the target's close frame.
PAUSE = 1.0
PATHS = itertools.count()
REQUEST_PATH: contextvars.ContextVar[str] = contextvars.ContextVar("request_path")
REFERENCE_TARGET = Target(REFERENCE, REFERENCE, "reference")


async def send_plan(conn: RawConnection, plan: Plan, side: Side) -> None:
    """Write the plan's bytes chunk by chunk, letting the loop run between writes.

    At a pause, wait (bounded) until the target's close frame is read.
    """
    for index, segment in enumerate(plan.segments(side)):
        if index:
            await until_close(conn)
        for chunk in segment:
            await conn.send(chunk)
            await asyncio.sleep(0)


def close_read(conn: RawConnection) -> bool:
    return any(frame.opcode == OP_CLOSE for frame in conn.seen)


async def until_close(conn: RawConnection) -> None:
    """Read frames until a close frame, EOF or the pause bound."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(PAUSE):
            while not close_read(conn) and await conn.read_frame(float("inf")) is not None:
                pass


def peer_read(conn: RawConnection, ended: bool) -> list[Any]:
    """What the raw peer read, as in the protocol scenarios' ``peer_read``."""
    return [*conn.trace(), {"ended": ended}]


async def settle(pair: Pair, ws: Any) -> dict[str, Any]:
    """recv() outcomes until it raises, then the close state once closed (bounded)."""
    outcomes = await drain(pair, ws, RECV_LIMIT)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(pair.timeout):
            await ws.wait_closed()
    return {"recv": short(outcomes), "closed": closed(ws)}


class RecordingServer:
    """A target's server whose handler records each connection under its request path."""

    def __init__(self, target: Target) -> None:
        self.pair = Pair(None, target)
        self.records = Mailbox()
        self.url = ""

    async def handler(self, ws: Any) -> None:
        self.records.put(ws.request.path, await settle(self.pair, ws))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RecordingServer]:
        async with serving(self.pair, self.handler) as self.url:
            yield self

    async def trace(self, plan: Plan) -> Any:
        """A raw client sends ``plan``; the handler's record and what the client read."""
        path = f"/{next(PATHS)}"
        async with self.pair.connect_raw(self.url + path) as conn:
            await send_plan(conn, plan, "client")
            _, ended = await conn.read_until_eof()
        record = await self.records.get(path, self.pair.timeout)
        return {**(record or {"handler": "no record"}), "peer_read": peer_read(conn, ended)}


class ScriptedServer:
    """A raw server playing the plan registered for each request path to a target's client."""

    def __init__(self) -> None:
        self.plans: dict[str, Plan] = {}
        self.reads = Mailbox()
        self.url = ""

    @staticmethod
    def respond(request: raw.Request) -> bytes:
        # The script runs in the same task as respond(): pass it the path.
        REQUEST_PATH.set(request.path)
        return raw.default_response(request)

    async def script(self, conn: RawConnection) -> None:
        path = REQUEST_PATH.get()
        await send_plan(conn, self.plans.pop(path), "server")
        if not close_read(conn):
            await conn.close_handshake(reply=False)
        await conn.aclose()
        self.reads.put(path, peer_read(conn, close_read(conn)))

    @contextlib.asynccontextmanager
    async def running(self, pair: Pair) -> AsyncIterator[ScriptedServer]:
        async with pair.serve_raw(self.script, self.respond) as server:
            self.url = server.url.rstrip("/")
            yield self

    async def trace(self, target: Target, plan: Plan) -> Any:
        """``target``'s client receives ``plan``; its recv() outcomes and what the server read."""
        pair = Pair(target, None)
        path = f"/{next(PATHS)}"
        self.plans[path] = plan
        async with pair.connect(self.url + path) as ws:
            record = await settle(pair, ws)
        return {**record, "peer_read": await self.reads.get(path, pair.timeout)}


# Regressions: a pong owed before a protocol error detected later in the same read, the
# first of two protocol errors deciding the close code, no message after an invalid close.
PONG_BEFORE_ERROR = Plan((Frame(OP_PING, b""), Frame(0x3, b"")))
PONG_BEFORE_BAD_CLOSE = Plan((Frame(OP_PING, b""), Frame(OP_CLOSE, b"\x03\xe7")))
FIRST_ERROR_WINS = Plan(
    (Frame(OP_TEXT, b"a", fin=False), Frame(OP_BINARY, b"b"), Frame(OP_CLOSE, b"\x03\xe8\xff"))
)

DATA_AFTER_BAD_CLOSE = Plan((Frame(OP_CLOSE, b"\xed"), Frame(OP_TEXT, b"a" * 65535)))
# An invalid close frame inside a fragmented message is a read-ahead case, not a clean close.
BAD_CLOSE_INSIDE_FRAGMENTS = Plan(
    (Frame(OP_TEXT, b"a", fin=False), Frame(OP_PING, b""), Frame(OP_CLOSE, b"\x00"))
)


def scenario(base: str, plan: Plan) -> str:
    """The catalogue scenario id an example belongs to."""
    if plan.close_inside_fragments():
        return generated_kind(base, "close-inside-fragments")
    if plan.read_ahead():
        return generated_kind(base, "read-ahead")
    return base


@register_property("frames-to-server", "protocol", [TO_SERVER], KINDS)
def test_frames_to_server(harness: Harness, target: Target) -> None:
    """A raw client's generated frames reach each server as they reach websockets'."""

    async def run(side: Target, plan: Plan) -> Any:
        server = await harness.share(
            ("recording", side.name), lambda: RecordingServer(side).running()
        )
        return await logged(server.trace(plan))

    @given(plan=strategies.plans())
    @example(plan=PONG_BEFORE_ERROR)
    @example(plan=FIRST_ERROR_WINS)
    @example(plan=DATA_AFTER_BAD_CLOSE)
    @example(plan=BAD_CLOSE_INSIDE_FRAGMENTS)
    def frames_to_server(tally: Tally, plan: Plan) -> None:
        key = (plan.stream("client"), plan.cuts)
        reference = harness.reference(TO_SERVER, key, lambda: run(REFERENCE_TARGET, plan))
        tally.check(scenario(TO_SERVER, plan), reference, harness.run(run(target, plan)), plan)

    harness.measure("frames-to-server", target, frames_to_server)


@register_property("frames-to-client", "protocol", [TO_CLIENT], KINDS)
def test_frames_to_client(harness: Harness, target: Target) -> None:
    """A raw server's generated frames reach each client as they reach websockets'."""

    async def run(side: Target, plan: Plan) -> Any:
        server = await harness.share(
            "scripted", lambda: ScriptedServer().running(Pair(None, None))
        )
        return await logged(server.trace(side, plan))

    @given(plan=strategies.plans())
    @example(plan=PONG_BEFORE_BAD_CLOSE)
    @example(plan=FIRST_ERROR_WINS)
    @example(plan=DATA_AFTER_BAD_CLOSE)
    @example(plan=BAD_CLOSE_INSIDE_FRAGMENTS)
    def frames_to_client(tally: Tally, plan: Plan) -> None:
        key = (plan.stream("server"), plan.cuts)
        reference = harness.reference(TO_CLIENT, key, lambda: run(REFERENCE_TARGET, plan))
        tally.check(scenario(TO_CLIENT, plan), reference, harness.run(run(target, plan)), plan)

    harness.measure("frames-to-client", target, frames_to_client)
