"""Generated call sequences on a connected pair: targets behave like the reference.

One side (the actor) calls send() with text, bytes, fragments and invalid values, ping(),
pong(), recv() and close() with valid and invalid codes, in any order, also after closing;
the other side echoes every message and records what it received. Both sides run the same
target. The trace holds each call's outcome and the actor's close state, and the echoing side's
recv() outcomes and close state under the keys the protocol scenarios use.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from conformance import trace
from conformance.scenario import Pair, register_property
from conformance.scenarios._shapes import closed
from conformance.targets import REFERENCE, Target

from . import strategies
from .differential import Harness, Mailbox, Tally, logged, serving, short
from .strategies import Call, Side, is_utf8

# Catalogue ids of the property, and of its examples whose fragmented send fails.
SCENARIO = "calls.generated"
CLOSE_INSIDE_FRAGMENTS = "protocol.close-inside-fragments.calls"
# Bound on a recv() or a pong that should come: only reached when a target misbehaves.
REPLY_TIMEOUT = 1.0
RECV_LIMIT = 32
PATHS = itertools.count()
REFERENCE_TARGET = Target(REFERENCE, REFERENCE, "reference")


async def perform(ws: Any, call: Call, pending: int) -> Any:
    """Make one call; the result is trace data."""
    name, args = call.name, call.args
    if name == "send_long":
        return await ws.send("a" * args[0])
    if name == "send_mixed":
        return await ws.send(list(args))
    if name == "send_as":
        return await ws.send(args[0], text=args[1])
    if name in ("send", "send_invalid"):
        return await ws.send(args[0])
    if name == "ping":
        waiter = await ws.ping(args[0])
        async with asyncio.timeout(REPLY_TIMEOUT):
            await waiter
        return "pong received"
    if name == "pong":
        return await ws.pong(args[0])
    if name == "recv":
        if not pending:
            return "nothing pending"
        async with asyncio.timeout(REPLY_TIMEOUT):
            return await ws.recv()
    assert name == "close"
    return await ws.close(*args)


def echoed(call: Call, outcome: Any) -> int:
    """How many messages the echoing side sends back for a call that didn't raise."""
    if "exception" in outcome:
        return 0
    if call.name == "send":
        return 0 if isinstance(call.args[0], list) and not call.args[0] else 1
    return 1 if call.name in ("send_long", "send_as") else 0


def invalid_text(call: Call) -> bool:
    """Whether the call sends bytes that aren't UTF-8 as a text message."""
    return call.name == "send_as" and call.args[1] and not is_utf8(call.args[0])


async def act(pair: Pair, ws: Any, calls: list[Call]) -> dict[str, Any]:
    """Make the calls, then close normally; outcomes and the final close state.

    websockets checks UTF-8 when recv() takes a message: after sending invalid text, wait
    (bounded) for the peer to close, or what follows would race with its check.
    """
    outcomes, pending = [], 0
    for call in calls:
        outcome = await pair.catch(perform(ws, call, pending), timeout=REPLY_TIMEOUT * 2)
        pending += echoed(call, outcome) - (call.name == "recv" and pending > 0)
        outcomes.append(outcome)
        if invalid_text(call) and "exception" not in outcome:
            await pair.catch(ws.wait_closed(), timeout=REPLY_TIMEOUT)
    await pair.catch(ws.close())
    return {"calls": short(outcomes), "actor_closed": closed(ws)}


async def echo(pair: Pair, ws: Any) -> dict[str, Any]:
    """Echo every message; what was received, how recv() ended and the close state."""
    received: list[Any] = []
    for _ in range(RECV_LIMIT):
        try:
            async with asyncio.timeout(pair.timeout):
                message = await ws.recv()
        except Exception as exc:
            received.append(trace.exception(exc))
            break
        received.append(trace.message(message))
        with contextlib.suppress(Exception):
            await ws.send(message)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(pair.timeout):
            await ws.wait_closed()
    return {"recv": short(received), "closed": closed(ws)}


async def play(pair: Pair, ws: Any, calls: list[Call] | None) -> dict[str, Any]:
    """The actor's part when given calls, else the echoing side's."""
    return await echo(pair, ws) if calls is None else await act(pair, ws, calls)


class CallServer:
    """A target's server playing, per request path, the actor or the echoing side."""

    def __init__(self, target: Target) -> None:
        self.pair = Pair(target, target)
        self.calls: dict[str, list[Call] | None] = {}
        self.records = Mailbox()
        self.url = ""

    async def handler(self, ws: Any) -> None:
        path = ws.request.path
        self.records.put(path, await play(self.pair, ws, self.calls.pop(path, None)))

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CallServer]:
        async with serving(self.pair, self.handler) as self.url:
            yield self

    async def trace(self, actor: Side, calls: list[Call]) -> Any:
        """The calls made by ``actor`` while the other side echoes."""
        path = f"/{next(PATHS)}"
        self.calls[path] = calls if actor == "server" else None
        async with self.pair.connect(self.url + path) as ws:
            client = await play(self.pair, ws, calls if actor == "client" else None)
        server = await self.records.get(path, self.pair.timeout)
        return {"actor": actor, **client, **(server or {"server": "no record"})}


def scenario(calls: list[Call]) -> str:
    """The catalogue scenario id of an example: a failed fragmented send ends with a close."""
    if any(call.name == "send_mixed" for call in calls):
        return CLOSE_INSIDE_FRAGMENTS
    return SCENARIO


@register_property("call-sequences", "send", [SCENARIO, CLOSE_INSIDE_FRAGMENTS])
def test_call_sequences(harness: Harness, target: Target) -> None:
    """Calls on a connected pair have the same outcomes as on websockets."""

    async def run(side: Target, actor: Side, calls: list[Call]) -> Any:
        server = await harness.share(("calls", side.name), lambda: CallServer(side).running())
        return await logged(server.trace(actor, calls))

    @given(actor=st.sampled_from(["client", "server"]), calls=strategies.calls())
    # Regressions: a close reason making the close frame longer than 125 bytes; invalid text
    # followed by more calls.
    @example(actor="client", calls=[Call("close", (1000, "r" * 124))])
    @example(actor="server", calls=[Call("send_as", (b"\xed", True)), Call("send", ("x",))])
    def call_sequences(tally: Tally, actor: Side, calls: list[Call]) -> None:
        example = (actor, calls)
        reference = harness.reference(
            SCENARIO, repr(example), lambda: run(REFERENCE_TARGET, actor, calls)
        )
        tally.check(scenario(calls), reference, harness.run(run(target, actor, calls)), example)

    harness.measure("call-sequences", target, call_sequences)
