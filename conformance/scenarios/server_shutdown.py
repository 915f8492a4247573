"""Server shutdown in every phase: serve_forever(), close(), cancellation, handshakes in progress.

Each scenario also records what the server logs, since operators read shutdowns from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .. import trace
from ..scenario import Pair, family, scenario
from ._shapes import closed, hold

# Long enough for the event loop to accept a raw TCP connection before the server closes.
SETTLE = 0.05


async def serving_forever(pair: Pair, server: Any) -> asyncio.Task[Any]:
    """Run ``server.serve_forever()`` in a task, once it has started."""
    task = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(SETTLE)
    return task


async def task_outcome(pair: Pair, task: asyncio.Task[Any]) -> Any:
    """How a task ended: its result, its exception, or cancelled; bounded."""
    done, _ = await asyncio.wait([task], timeout=pair.timeout * 2)
    if not done:
        task.cancel()
        return "still running"
    if task.cancelled():
        return "cancelled"
    exc = task.exception()
    return trace.exception(exc) if exc is not None else {"result": trace.data(task.result())}


@scenario("serve")
async def serve_forever_returns_after_close(pair: Pair) -> Any:
    """close() from another task (a signal handler) makes serve_forever() return None."""
    with pair.watching_logs() as logs:
        server = await pair.server_module.serve(hold, "127.0.0.1", 0)
        task = await serving_forever(pair, server)
        server.close()
        outcome = await task_outcome(pair, task)
        await pair.stop(server)
    return {"serve_forever": outcome, "log": logs.trace("websockets.server")}


@scenario("serve")
async def serve_forever_cancelled_closes_connections(pair: Pair) -> Any:
    """Cancelling serve_forever() closes open connections with 1001 and waits for handlers."""
    finished: list[str] = []

    async def handler(ws: Any) -> None:
        await pair.catch(ws.wait_closed())
        await asyncio.sleep(SETTLE)
        finished.append("handler returned")

    with pair.watching_logs() as logs:
        server = await pair.server_module.serve(handler, "127.0.0.1", 0)
        task = await serving_forever(pair, server)
        async with pair.connect(pair.url(server)) as ws:
            task.cancel()
            outcome = await task_outcome(pair, task)
            handlers = list(finished)
            recv = await pair.catch(ws.recv())
            state = closed(ws)
        await pair.stop(server)
    return {
        "serve_forever": outcome,
        "handlers_when_cancelled": handlers,
        "recv": recv,
        "closed": state,
        "log": logs.trace("websockets.server"),
    }


CLOSE_CASES = [
    ("server-shutdown.handshake-in-progress", "close() before the request arrives: 503",
     {"close_connections": True}),
    ("server-shutdown.handshake-in-progress-keep", "close(close_connections=False) before the "
     "request arrives: 503", {"close_connections": False}),
]


@family("serve", CLOSE_CASES, sides="server")
async def handshake_in_progress(pair: Pair, close_connections: bool) -> Any:
    """A TCP connection accepted before close() and upgraded after it is refused with 503."""
    started: list[str] = []

    async def handler(ws: Any) -> None:
        started.append("handler started")

    with pair.watching_logs() as logs:
        server = await pair.server_module.serve(handler, "127.0.0.1", 0)
        async with pair.connect_raw(pair.url(server), handshake=False) as raw:
            await asyncio.sleep(SETTLE)
            server.close(close_connections=close_connections)
            await raw.send(raw_request(raw.key))
            await raw.read_response()
            response = raw.handshake_trace()
            _, ended = await raw.read_until_eof()
        await pair.stop(server)
    return {
        "response": response,
        "headers": sorted(name.lower() for name in raw.headers),
        "eof": ended,
        "handler": started,
        "log": logs.trace("websockets.server"),
    }


def raw_request(key: str) -> bytes:
    """A valid upgrade request for 127.0.0.1."""
    return (
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


@scenario("serve", sides="server")
async def wait_closed_waits_for_opening_handshakes(pair: Pair) -> Any:
    """A hook still running when close() is called: 503, no handler, wait_closed() waits."""
    release = asyncio.Event()
    started: list[str] = []
    events: list[str] = []

    async def handler(ws: Any) -> None:
        started.append("handler started")

    async def slow_hook(connection: Any, request: Any) -> None:
        await release.wait()
        events.append("hook returned")

    server = await pair.server_module.serve(
        handler, "127.0.0.1", 0, process_request=slow_hook, open_timeout=2
    )
    async with pair.connect_raw(pair.url(server), handshake=False) as raw:
        await raw.send(raw_request(raw.key))
        await asyncio.sleep(SETTLE)
        server.close()
        waiting = asyncio.create_task(server.wait_closed())
        await asyncio.sleep(SETTLE)
        events.append(f"wait_closed done before the hook returned: {waiting.done()}")
        release.set()
        await raw.read_response()
        response = raw.handshake_trace()
        await task_outcome(pair, waiting)
    await pair.stop(server)
    return {"response": response, "events": events, "handler": started}


@scenario("serve")
async def connections_opening_while_closing(pair: Pair) -> Any:
    """Clients connecting while the server closes either open and get 1001, or get 503."""
    started: list[str] = []

    async def handler(ws: Any) -> None:
        started.append("started")
        await pair.catch(ws.wait_closed())

    async def attempt(url: str) -> str:
        try:
            async with pair.connect(url) as ws:
                await pair.catch(ws.wait_closed())
                return f"opened, closed with {ws.close_code}"
        except Exception as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            return f"{type(exc).__name__} {status}" if status else "refused"

    server = await pair.server_module.serve(handler, "127.0.0.1", 0)
    url = pair.url(server)
    attempts = [asyncio.create_task(attempt(url)) for _ in range(20)]
    await asyncio.sleep(0.005)
    server.close()
    outcomes = await asyncio.gather(*attempts)
    await pair.stop(server)
    opened = sum(outcome.startswith("opened") for outcome in outcomes)
    # How many clients get either depends on timing (the machine's load): only the outcomes
    # that are neither are traced.
    either = {"opened, closed with 1001", "InvalidStatus 503"}
    return {
        "other_outcomes": sorted(set(outcomes) - either),
        "every_open_connection_ran_its_handler": opened == len(started),
    }


@scenario("serve")
async def start_serving_later(pair: Pair) -> Any:
    """start_serving=False: not serving nor logging until serve_forever(); close() ends it."""
    with pair.watching_logs() as logs:
        server = await pair.server_module.serve(hold, "127.0.0.1", 0, start_serving=False)
        before = server.is_serving()
        task = await serving_forever(pair, server)
        during = server.is_serving()
        async with pair.connect(pair.url(server)) as ws:
            state = trace.state(ws)
        server.close()
        outcome = await task_outcome(pair, task)
    return {
        "serving": [before, during, server.is_serving()],
        "connect": state,
        "serve_forever": outcome,
        "log": logs.trace("websockets.server"),
    }


@scenario("serve")
async def close_twice_and_wait(pair: Pair) -> Any:
    """close() is idempotent; wait_closed() returns for every waiter."""
    server = await pair.server_module.serve(hold, "127.0.0.1", 0)
    async with pair.connect(pair.url(server)) as ws:
        server.close()
        server.close(code=1012)
        waiters = [asyncio.create_task(server.wait_closed()) for _ in range(3)]
        outcomes = [await task_outcome(pair, waiter) for waiter in waiters]
        state = closed(ws)
    return {"waiters": outcomes, "closed": state}


@scenario("serve", sides="server")
async def handler_outlives_close_connections_false(pair: Pair) -> Any:
    """close(close_connections=False): wait_closed() waits until the client leaves."""
    server = await pair.server_module.serve(hold, "127.0.0.1", 0)
    async with pair.connect_raw(pair.url(server)) as raw:
        server.close(close_connections=False)
        waiting = asyncio.create_task(server.wait_closed())
        await asyncio.sleep(SETTLE)
        early = waiting.done()
        await raw.send_close(1000)
        frames, ended = await raw.read_until_eof()
        with contextlib.suppress(Exception):
            await task_outcome(pair, waiting)
    return {
        "wait_closed_done_early": early,
        "after_client_close": waiting.done(),
        "peer_read": [frame.trace() for frame in frames],
        "eof": ended,
    }
