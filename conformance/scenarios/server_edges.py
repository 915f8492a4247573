"""serve() at its edges: a client gone during the handshake, a custom logger, awaiting twice."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ..raw import RawClient
from ..scenario import Pair, scenario
from ._shapes import echo, hold

REQUEST = (
    b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
# How long a hook waits after the client left, for the server to notice the end of the stream.
NOTICE = 0.2


@scenario("serve", seed="async-process-hooks")
async def client_leaves_during_process_request(pair: Pair) -> Any:
    """The client closes TCP while an async process_request runs: nothing is sent back."""
    left = asyncio.Event()
    called = asyncio.Event()
    calls: list[str] = []

    async def process_request(connection: Any, request: Any) -> None:
        calls.append("process_request")
        called.set()
        async with asyncio.timeout(pair.timeout):
            await left.wait()
        await asyncio.sleep(NOTICE)

    def process_response(connection: Any, request: Any, response: Any) -> None:
        calls.append("process_response")

    async def handler(ws: Any) -> None:
        calls.append("handler")

    with pair.watching_logs() as logs:
        async with pair.serving(
            handler, process_request=process_request, process_response=process_response
        ) as server:
            client = await RawClient.connect(pair.url(server), handshake=False)
            await client.send(REQUEST)
            await pair.catch(called.wait())
            await client.aclose()
            left.set()
            await asyncio.sleep(2 * NOTICE)
            connections = len(server.connections)
    return {"calls": calls, "connections": connections, "log": logs.trace("websockets.server")}


@scenario("serve")
async def custom_logger(pair: Pair) -> Any:
    """serve(logger=...) and connect(logger=...) log to the loggers given."""
    with pair.watching_logs() as logs:
        async with (
            pair.serve(echo, logger=logging.getLogger("websockets.custom.server")) as url,
            pair.connect(url, logger=logging.getLogger("websockets.custom.client")) as ws,
        ):
            await ws.send("hello")
            echoed = await pair.catch(ws.recv())
    return {
        "echoed": echoed,
        "log": {
            side: logs.trace(f"websockets.custom.{side}") for side in ("client", "server")
        },
        "default": {side: logs.trace(f"websockets.{side}") for side in ("client", "server")},
    }


@scenario("serve")
async def serve_awaited_twice(pair: Pair) -> Any:
    """Awaiting the same serve() twice returns the same server, listening once."""
    with pair.watching_logs() as logs:
        serving = pair.server_module.serve(hold, "127.0.0.1", 0)
        server = await serving
        again = None
        try:
            again = await serving
            same = again is server
            listening = [len(server.sockets), server.is_serving()]
        finally:
            await pair.stop(server)
            if again is not None and again is not server:
                await pair.stop(again)
    return {"same": same, "listening": listening, "log": logs.trace("websockets.server")}


@scenario("serve")
async def client_half_closes_with_request(pair: Pair) -> Any:
    """The client sends its request and half-closes at once: what the server sends back."""
    calls: list[str] = []

    def process_request(connection: Any, request: Any) -> None:
        calls.append("process_request")

    async def handler(ws: Any) -> None:
        calls.append("handler")

    async def read_all(client: RawClient) -> bytes:
        received = b""
        while chunk := await client.reader.read(65536):
            received += chunk
        return received

    with pair.watching_logs() as logs:
        async with pair.serving(handler, process_request=process_request) as server:
            client = await RawClient.connect(pair.url(server), handshake=False)
            await client.send(REQUEST)
            client.writer.write_eof()
            received = await pair.catch(read_all(client))
            await client.aclose()
    return {"calls": calls, "received": received, "log": logs.trace("websockets.server")}
