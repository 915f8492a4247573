"""DEBUG logs: what each side logs of a connection when its logger shows DEBUG messages.

Every scenario here watches the ``websockets`` loggers (see :class:`~conformance.scenario.LogWatch`)
and returns what each side logged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..raw import OP_CONT, OP_TEXT, RawConnection
from ..scenario import LogWatch, Pair, scenario
from ._shapes import Recorder, closed, echo
from .tls import server_context, trusting_context

# Messages of two sizes: one shown whole, one elided in the middle.
SHORT = "hello"
LONG = "".join(f"{index:03d} " for index in range(60))


def logged(logs: LogWatch) -> dict[str, Any]:
    """What the client's and the server's loggers logged."""
    return {side: logs.trace(f"websockets.{side}") for side in ("client", "server")}


@scenario("attributes")
async def exchange(pair: Pair) -> Any:
    """Text, binary, long and fragmented messages echoed, then the client closes."""
    messages: list[Any] = [SHORT, b"\x00\x01\x02binary", LONG, ["frag", "ments"], [b"ab", b"cd"]]
    received = []
    with pair.watching_logs() as logs:
        async with pair.serve(echo) as url, pair.connect(url) as ws:
            for message in messages:
                await ws.send(message)
                received.append(await pair.catch(ws.recv()))
    return {"received": received, "closed": closed(ws), "log": logged(logs)}


@scenario("attributes")
async def uncompressed(pair: Pair) -> Any:
    """Without compression: a message echoed, then the client closes."""
    with pair.watching_logs() as logs:
        async with (
            pair.serve(echo, compression=None) as url,
            pair.connect(url, compression=None) as ws,
        ):
            await ws.send(LONG)
            received = await pair.catch(ws.recv())
    return {"received": received, "log": logged(logs)}


@scenario("attributes")
async def ping_pong(pair: Pair) -> Any:
    """Pings with and without data from the client, a ping from the server, a lone pong."""

    async def handler(ws: Any) -> None:
        await ws.recv()
        pong = await ws.ping(b"from server")
        await pair.catch(pong)
        await ws.send("pinged")
        await ws.wait_closed()

    with pair.watching_logs() as logs:
        async with pair.serve(handler) as url, pair.connect(url) as ws:
            pongs = [await pair.catch(await ws.ping(data)) for data in (b"from client", None)]
            await ws.pong(b"unsolicited")
            await ws.send("ping me")
            answer = await pair.catch(ws.recv())
    return {
        "pongs": ["result" in pong for pong in pongs],
        "answer": answer,
        "log": logged(logs),
    }


@scenario("attributes")
async def server_closes(pair: Pair) -> Any:
    """The server closes with 4000 "bye"; the client sees the closing handshake end."""

    async def handler(ws: Any) -> None:
        await ws.close(4000, "bye")

    with pair.watching_logs() as logs:
        async with pair.serve(handler) as url, pair.connect(url) as ws:
            outcome = await pair.catch(ws.recv())
    return {"recv": outcome, "closed": closed(ws), "log": logged(logs)}


@scenario("handshake")
async def refused(pair: Pair) -> Any:
    """process_request answers 403: both sides log the response, then close."""

    def process_request(connection: Any, request: Any) -> Any:
        return connection.respond(403, "Not here.\n")

    with pair.watching_logs() as logs:
        async with pair.serve(echo, process_request=process_request) as url:
            outcome = await pair.catch(pair.client_module.connect(url, open_timeout=2))
    return {"connect": outcome, "log": logged(logs)}


@scenario("handshake")
async def client_handshake(pair: Pair) -> Any:
    """A request with an origin, a subprotocol and headers of its own, then a normal close."""
    options: dict[str, Any] = {
        "origin": "https://origin.example",
        "subprotocols": ["chat"],
        "additional_headers": {"X-Request-Id": "42"},
        "user_agent_header": "debugging/1.0",
    }
    with pair.watching_logs() as logs:
        async with (
            pair.serve(echo, subprotocols=["chat"], server_header="serving/1.0") as url,
            pair.connect(url + "path?query=1", **options) as ws,
        ):
            subprotocol = ws.subprotocol
    return {"subprotocol": subprotocol, "log": logged(logs)}


@scenario("attributes")
async def authorization(pair: Pair) -> Any:
    """Basic credentials in the URI: the lines logging the Authorization header."""
    auth = pair.server_module.basic_auth(credentials=("user", "secret-Pa55word"))

    async def open_and_close(url: str) -> str:
        async with pair.connect(url.replace("ws://", "ws://user:secret-Pa55word@")):
            return "opened"

    with pair.watching_logs() as logs:
        async with pair.serve(echo, process_request=auth) as url:
            outcome = await pair.catch(open_and_close(url))
    lines = {
        side: [
            message
            for entry in logs.trace(f"websockets.{side}")["connections"]
            for message in entry.get("headers", [])
            if message[2:].lower().startswith("authorization:")
        ]
        for side in ("client", "server")
    }
    return {"connect": outcome, "log": lines}


@scenario("keepalive")
async def keepalive(pair: Pair) -> Any:
    """The client's first keepalive ping is answered, then the client closes."""
    with pair.watching_logs() as logs:
        async with (
            pair.serve(echo, ping_interval=None) as url,
            pair.connect(url, ping_interval=0.5, ping_timeout=1) as ws,
        ):
            async with asyncio.timeout(pair.timeout):
                while not ws.latency:
                    await asyncio.sleep(0.01)
            # Let the keepalive task see its pong, well before the next ping is due.
            await asyncio.sleep(0.02)
    return {"log": logged(logs)}


@scenario("keepalive", sides="client")
async def keepalive_timeout(pair: Pair) -> Any:
    """A server that never answers pings: the client times out and fails the connection."""

    async def script(conn: RawConnection) -> None:
        await conn.read_until_eof()

    with pair.watching_logs() as logs:
        async with (
            pair.serve_raw(script) as server,
            pair.connect(server.url, ping_interval=0.1, ping_timeout=0.1, close_timeout=0.2) as ws,
        ):
            outcome = await pair.catch(ws.recv())
    return {"recv": outcome, "log": logged(logs)}


@scenario("protocol", sides="client")
async def protocol_error_client(pair: Pair) -> Any:
    """The server sends a continuation frame out of a message: the client fails with 1002."""

    async def script(conn: RawConnection) -> None:
        await conn.send_frame(OP_TEXT, b"first")
        await conn.send_frame(OP_CONT, b"stray")
        await conn.close_handshake()

    with pair.watching_logs() as logs:
        async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
            outcome = [await pair.catch(ws.recv()), await pair.catch(ws.recv())]
    return {"recv": outcome, "log": logged(logs)}


@scenario("protocol", sides="server")
async def protocol_error_server(pair: Pair) -> Any:
    """The client sends a continuation frame out of a message: the server fails with 1002."""
    with pair.watching_logs() as logs:
        async with pair.serve(echo) as url, pair.connect_raw(url) as conn:
            await conn.send_frame(OP_CONT, b"stray")
            frames, eof = await conn.read_until_eof()
    return {"peer_read": [frame.trace() for frame in frames], "eof": eof, "log": logged(logs)}


@scenario("protocol", sides="server")
async def reserved_opcode(pair: Pair) -> Any:
    """The client sends a frame with a reserved opcode: the server fails with 1002."""
    with pair.watching_logs() as logs:
        async with pair.serve(echo) as url, pair.connect_raw(url) as conn:
            await conn.send_frame(0x3, b"reserved")
            frames, eof = await conn.read_until_eof()
    return {"peer_read": [frame.trace() for frame in frames], "eof": eof, "log": logged(logs)}


@scenario("connect")
async def tls(pair: Pair) -> Any:
    """Over TLS, which can't be half-closed: a message echoed, then the client closes."""
    async with pair.serving(echo, ssl=server_context()) as server:
        url = pair.url(server).replace("ws://", "wss://")
        with pair.watching_logs() as logs:
            async with pair.connect(url, ssl=trusting_context()) as ws:
                await ws.send(SHORT)
                received = await pair.catch(ws.recv())
            await pair.stop(server)
    return {"received": received, "log": logged(logs)}


@scenario("connect")
async def tls_refused(pair: Pair) -> Any:
    """Over TLS, process_request answers 403: both sides log the response, then close."""

    def process_request(connection: Any, request: Any) -> Any:
        return connection.respond(403, "Not here.\n")

    async with pair.serving(echo, ssl=server_context(), process_request=process_request) as server:
        url = pair.url(server).replace("ws://", "wss://")
        with pair.watching_logs() as logs:
            outcome = await pair.catch(pair.client_module.connect(url, ssl=trusting_context()))
            await pair.stop(server)
    return {"connect": outcome, "log": logged(logs)}


@scenario("protocol", sides="client")
async def server_drops_tcp(pair: Pair) -> Any:
    """The server closes TCP without a closing handshake: the client reads EOF while open."""

    async def script(conn: RawConnection) -> None:
        await conn.aclose()

    with pair.watching_logs() as logs:
        async with pair.serve_raw(script) as server, pair.connect(server.url) as ws:
            outcome = await pair.catch(ws.recv())
    return {"recv": outcome, "log": logged(logs)}


@scenario("protocol", sides="server")
async def client_drops_tcp(pair: Pair) -> Any:
    """The client closes TCP without a closing handshake: the server reads EOF while open."""

    async def body(ws: Any) -> Any:
        return await pair.catch(ws.recv())

    recorder = Recorder(body)
    with pair.watching_logs() as logs:
        async with pair.serve(recorder) as url:
            async with pair.connect_raw(url) as conn:
                await conn.aclose()
            handled = await recorder.wait(pair)
    return {"handler": handled, "log": logged(logs)}


@scenario("handshake")
async def invalid_origin(pair: Pair) -> Any:
    """An origin the server doesn't allow: it explains the refusal, then answers 403."""
    with pair.watching_logs() as logs:
        async with pair.serve(echo, origins=["https://good.example"]) as url:
            outcome = await pair.catch(
                pair.client_module.connect(url, origin="https://evil.example")
            )
    return {"connect": outcome, "log": logged(logs)}


@scenario("handshake", sides="server")
async def invalid_upgrade(pair: Pair) -> Any:
    """A request without an Upgrade header: the server explains the refusal, then answers 426."""
    request = (
        b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with pair.watching_logs() as logs:
        async with pair.serve(echo) as url, pair.connect_raw(url, handshake=False) as conn:
            await conn.send(request)
            await conn.read_response()
            _, eof = await conn.read_until_eof()
    return {"status": conn.status, "eof": eof, "log": logged(logs)}
