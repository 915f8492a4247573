"""Closing handshake: codes, reasons, states and ConnectionClosedOK versus ConnectionClosedError."""

from __future__ import annotations

import asyncio
from typing import Any

from .. import trace
from ..raw import OP_CLOSE, OP_TEXT, RawConnection, close_payload
from ..scenario import Pair, family, scenario
from ._shapes import Recorder, both_directions, closed, drain, hold, peer_sends

PEER_CLOSE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    *(
        (f"close.peer-{code}", f"the peer closes with {code}",
         {"frames": [(OP_TEXT, b"last", {}), (OP_CLOSE, close_payload(code, "why"), {})]})
        for code in (1000, 1001, 1011, 3000, 4999)
    ),
    ("close.peer-no-code", "the peer closes with an empty payload (1005)",
     {"frames": [(OP_CLOSE, b"", {})]}),
    ("close.peer-abort", "the peer drops TCP without a close frame (1006)",
     {"frames": [(OP_TEXT, b"last", {})], "abort": True}),
]

TO_CLIENT, TO_SERVER = both_directions(PEER_CLOSE_CASES)


@family("close", TO_CLIENT, sides="client")
async def raw_server_closes(pair: Pair, **kwargs: Any) -> Any:
    """A raw server closes; the client reports recv outcomes and close code/reason."""
    return await peer_sends(pair, **kwargs)


@family("close", TO_SERVER, sides="server")
async def raw_client_closes(pair: Pair, **kwargs: Any) -> Any:
    """A raw client closes; the server handler reports recv outcomes and close code/reason."""
    return await peer_sends(pair, **kwargs)


CLOSE_CASES = [
    (f"close.{side}-closes-{code}", f"the {side} calls close({code}, {reason!r})",
     {"closer": side, "code": code, "reason": reason})
    for side in ("client", "server")
    for code, reason in ((1000, ""), (1001, "going away"), (1011, "oops"), (4001, "bye"))
]


@family("close", CLOSE_CASES)
async def target_closes(pair: Pair, closer: str, code: int, reason: str) -> Any:
    """One side closes with a code and reason; both report what they observed."""

    async def body(ws: Any) -> Any:
        if closer == "server":
            await ws.close(code, reason)
            return closed(ws)
        outcome = await pair.catch(ws.recv())
        return {"recv": outcome, **closed(ws)}

    recorder = Recorder(body)
    async with pair.serve(recorder) as url, pair.connect(url) as ws:
        if closer == "client":
            await ws.close(code, reason)
            client = closed(ws)
        else:
            client = {"recv": await pair.catch(ws.recv()), **closed(ws)}
        server = await recorder.wait(pair)
    return {"client": client, "server": server}


@scenario("close")
async def close_during_recv(pair: Pair) -> Any:
    """close() while a recv() is pending makes that recv raise ConnectionClosedOK."""
    async with pair.serve(hold) as url, pair.connect(url) as ws:
        pending = asyncio.ensure_future(pair.catch(ws.recv()))
        await asyncio.sleep(0.05)
        await ws.close()
        return {"recv": await pending, "closed": closed(ws)}


@scenario("close")
async def close_code_before_close(pair: Pair) -> Any:
    """close_code and close_reason are None while open, set after close."""
    async with pair.serve(hold) as url, pair.connect(url) as ws:
        before = {"code": ws.close_code, "reason": ws.close_reason, "state": trace.state(ws)}
        await ws.close(4000, "done")
        return {"before": before, "after": closed(ws)}


@scenario("close")
async def state_transitions(pair: Pair) -> Any:
    """The client observes OPEN, CLOSING while closing, then CLOSED."""
    async with pair.serve(hold) as url, pair.connect(url) as ws:
        states = [trace.state(ws)]
        closing = asyncio.ensure_future(ws.close())
        await asyncio.sleep(0)
        states.append(trace.state(ws))
        await closing
        states.append(trace.state(ws))
    return states


@scenario("close")
async def server_state_in_handler(pair: Pair) -> Any:
    """The handler sees its connection OPEN, and CLOSED after the client closes."""

    async def body(ws: Any) -> Any:
        first = trace.state(ws)
        await pair.catch(ws.recv())
        await pair.catch(ws.wait_closed())
        return [first, trace.state(ws)]

    recorder = Recorder(body)
    async with pair.serve(recorder) as url, pair.connect(url) as ws:
        await ws.close()
        return await recorder.wait(pair)


@scenario("close")
async def wait_closed_after_server_close(pair: Pair) -> Any:
    """wait_closed() returns once the server closed; no exception is raised."""

    async def handler(ws: Any) -> None:
        await ws.close(1001, "bye")

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        outcome = await pair.catch(ws.wait_closed())
        return {"wait_closed": outcome, "closed": closed(ws)}


@scenario("close")
async def close_twice(pair: Pair) -> Any:
    """A second close() is a no-op and keeps the first code."""
    async with pair.serve(hold) as url, pair.connect(url) as ws:
        first = await pair.catch(ws.close(4000, "first"))
        second = await pair.catch(ws.close(4001, "second"))
        return {"first": first, "second": second, "closed": closed(ws)}


@scenario("close", sides="client")
async def close_timeout_client(pair: Pair) -> Any:
    """The server never answers the close frame: close() returns after close_timeout."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        frames, eof = await conn.read_until_eof()
        seen.extend([*(frame.trace() for frame in frames), {"eof": eof}])

    async with (
        pair.serve_raw(script) as server,
        pair.connect(server.url, close_timeout=0.2) as ws,
    ):
        outcome = await pair.catch(ws.close(4000, "done"))
        state = closed(ws)
        after = await pair.catch(ws.recv())
    return {"close": outcome, "closed": state, "recv": after, "peer_read": seen}


@scenario("close", sides="server")
async def close_timeout_server(pair: Pair) -> Any:
    """The client never answers the server's close: the server drops TCP after close_timeout."""

    async def body(ws: Any) -> Any:
        await ws.close(4000, "done")
        return closed(ws)

    recorder = Recorder(body)
    async with pair.serve(recorder, close_timeout=0.2) as url, pair.connect_raw(url) as conn:
        frames, eof = await conn.read_until_eof()
        server = await recorder.wait(pair)
    return {"server": server, "peer_read": [*(frame.trace() for frame in frames), {"eof": eof}]}


@scenario("close")
async def handler_close_while_client_iterates(pair: Pair) -> Any:
    """A client iterating messages sees them all, then the iteration ends on 1000."""

    async def handler(ws: Any) -> None:
        for index in range(3):
            await ws.send(str(index))
        await ws.close()

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        received = await drain(pair, ws)
    return received
