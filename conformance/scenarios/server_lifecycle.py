"""Server lifecycle: forms, close(), wait_closed(), serve_forever(), sockets and connections."""

from __future__ import annotations

import asyncio
from typing import Any

from .. import trace
from ..scenario import Pair, scenario
from ._shapes import Recorder, closed, echo, hold, open_and_close


@scenario("serve")
async def await_serve(pair: Pair) -> Any:
    """server = await serve(...) listens until close() and wait_closed()."""
    server = await pair.server_module.serve(hold, "127.0.0.1", 0)
    try:
        serving = server.is_serving()
        outcome = await open_and_close(pair, pair.url(server))
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), pair.timeout)
    return {"serving": serving, "connect": outcome, "after": server.is_serving()}


@scenario("serve")
async def async_with_serve(pair: Pair) -> Any:
    """async with serve(...) stops listening on exit."""
    async with pair.server_module.serve(hold, "127.0.0.1", 0) as server:
        url = pair.url(server)
        serving = server.is_serving()
        outcome = await open_and_close(pair, url)
    refused = await open_and_close(pair, url, open_timeout=0.5)
    return {"serving": serving, "connect": outcome, "after": server.is_serving(),
            "refused": refused.get("exception", refused)}


@scenario("serve")
async def server_close_going_away(pair: Pair) -> Any:
    """Server.close() closes open connections with 1001."""
    async with pair.serving(hold) as server, pair.connect(pair.url(server)) as ws:
        server.close()
        outcome = await pair.catch(ws.recv())
        await asyncio.wait_for(server.wait_closed(), pair.timeout)
        return {"recv": outcome, "closed": closed(ws)}


@scenario("serve")
async def server_close_keep_connections(pair: Pair) -> Any:
    """close(close_connections=False) stops listening but keeps connections open."""
    async with pair.serving(echo) as server, pair.connect(pair.url(server)) as ws:
        server.close(close_connections=False)
        await asyncio.sleep(0.05)
        await ws.send("still here")
        echoed = await pair.catch(ws.recv())
        serving = server.is_serving()
        await ws.close()
        await asyncio.wait_for(server.wait_closed(), pair.timeout)
        return {"echo": echoed, "serving": serving, "closed": closed(ws)}


@scenario("serve")
async def wait_closed_waits_for_handlers(pair: Pair) -> Any:
    """wait_closed() returns only after handlers finished."""
    finished: list[str] = []

    async def handler(ws: Any) -> None:
        await pair.catch(ws.wait_closed())
        await asyncio.sleep(0.05)
        finished.append("handler")

    async with pair.serving(handler) as server, pair.connect(pair.url(server)):
        server.close()
        await asyncio.wait_for(server.wait_closed(), pair.timeout)
        return finished


@scenario("serve")
async def serve_forever_cancelled(pair: Pair) -> Any:
    """Cancelling serve_forever() raises CancelledError and stops the server."""
    async with pair.serving(hold) as server:
        task = asyncio.ensure_future(server.serve_forever())
        await asyncio.sleep(0.05)
        task.cancel()
        try:
            await asyncio.wait_for(task, pair.timeout)
            outcome = "returned"
        except asyncio.CancelledError:
            outcome = "CancelledError"
        return {"outcome": outcome, "serving": server.is_serving()}


@scenario("serve")
async def sockets_and_connections(pair: Pair) -> Any:
    """sockets lists the listening socket; connections tracks live connections."""
    async with pair.serving(hold) as server:
        sockets = [list(sock.getsockname())[:1] for sock in server.sockets]
        empty = len(server.connections)
        async with pair.connect(pair.url(server)):
            await asyncio.sleep(0.05)
            live = len(server.connections)
            kinds = sorted({type(conn).__name__ for conn in server.connections})
        await asyncio.sleep(0.1)
        return {"sockets": sockets, "before": empty, "during": live, "after":
                len(server.connections), "connection_class": kinds}


@scenario("serve")
async def start_serving_later(pair: Pair) -> Any:
    """serve(start_serving=False) listens only after start_serving()."""
    async with pair.serving(hold, start_serving=False) as server:
        before = server.is_serving()
        await server.start_serving()
        outcome = await open_and_close(pair, pair.url(server))
        return {"before": before, "after": server.is_serving(), "connect": outcome}


@scenario("serve")
async def handler_sees_server_side(pair: Pair) -> Any:
    """The handler's connection is OPEN with a request and a 101 response."""

    async def body(ws: Any) -> Any:
        return {
            "state": trace.state(ws),
            "status": int(ws.response.status_code),
            "reason": ws.response.reason_phrase,
            "upgrade": ws.response.headers.get("Upgrade"),
            "request_upgrade": ws.request.headers.get("Upgrade"),
        }

    recorder = Recorder(body)
    async with pair.serve(recorder) as url, pair.connect(url):
        return await recorder.wait(pair)


@scenario("serve")
async def broadcast_to_connections(pair: Pair) -> Any:
    """broadcast(server.connections, message) reaches every connected client."""
    async with pair.serving(hold) as server:
        url = pair.url(server)
        async with pair.connect(url) as first, pair.connect(url) as second:
            await asyncio.sleep(0.05)
            pair.server_module.broadcast(server.connections, "to all")
            received = [await pair.catch(ws.recv()) for ws in (first, second)]
    return received
