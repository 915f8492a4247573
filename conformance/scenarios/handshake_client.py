"""connect(): URIs, forms, timeouts, headers, subprotocols and invalid server responses."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

from .. import trace
from ..raw import Request, accept_key, http_response
from ..scenario import Pair, family, scenario
from ._shapes import Recorder, closed, echo, hold, open_and_close


def responder(
    status: int = 101,
    extra: Iterable[tuple[str, str]] = (),
    drop: Iterable[str] = (),
    accept: str | None = None,
    raw: bytes | None = None,
    body: bytes = b"",
) -> Any:
    """A raw server response: a 101 upgrade altered as asked, another status, or raw bytes."""
    dropped = {name.lower() for name in drop}

    def respond(request: Request) -> bytes:
        if raw is not None:
            return raw
        key = accept_key(request.header("Sec-WebSocket-Key") or "")
        base = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", key if accept is None else accept),
        ] if status == 101 else []
        headers = [(name, value) for name, value in base if name.lower() not in dropped]
        return http_response(status, headers=[*headers, *extra], body=body)

    return respond


RESPONSE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    *(
        (f"handshake-client.status-{status}", f"the server answers HTTP {status}",
         {"respond": responder(status, body=b"nope\n")})
        for status in (200, 403, 404, 500)
    ),
    ("handshake-client.missing-upgrade", "the 101 response lacks Upgrade",
     {"respond": responder(drop=["Upgrade"])}),
    ("handshake-client.wrong-upgrade", "the 101 response upgrades to h2c",
     {"respond": responder(drop=["Upgrade"], extra=[("Upgrade", "h2c")])}),
    ("handshake-client.missing-connection", "the 101 response lacks Connection",
     {"respond": responder(drop=["Connection"])}),
    ("handshake-client.wrong-accept", "Sec-WebSocket-Accept is wrong",
     {"respond": responder(accept="d3Jvbmc=")}),
    ("handshake-client.missing-accept", "Sec-WebSocket-Accept is missing",
     {"respond": responder(drop=["Sec-WebSocket-Accept"])}),
    ("handshake-client.bad-status-line", "the status line is not HTTP",
     {"respond": responder(raw=b"HTTP/1.1 abc\r\n\r\n")}),
    ("handshake-client.garbage", "the response is not HTTP at all",
     {"respond": responder(raw=b"hello world\r\n\r\n")}),
    ("handshake-client.closed-before-response", "the server closes TCP without answering",
     {"respond": responder(raw=b"")}),
    ("handshake-client.unrequested-subprotocol", "the server picks a subprotocol nobody offered",
     {"respond": responder(extra=[("Sec-WebSocket-Protocol", "chat")])}),
    ("handshake-client.wrong-subprotocol", "the server picks a subprotocol not offered",
     {"respond": responder(extra=[("Sec-WebSocket-Protocol", "other")]),
      "subprotocols": ["chat"]}),
    ("handshake-client.unrequested-extension", "the server accepts an extension nobody offered",
     {"respond": responder(extra=[("Sec-WebSocket-Extensions", "x-unknown")])}),
    ("handshake-client.deflate-without-compression",
     "the server enables permessage-deflate with compression=None",
     {"respond": responder(extra=[("Sec-WebSocket-Extensions", "permessage-deflate")]),
      "compression": None}),
]


@family("connect", RESPONSE_CASES, sides="client")
async def server_response(pair: Pair, respond: Any, **kwargs: Any) -> Any:
    """A raw server answers the upgrade as scripted; the client reports the outcome."""
    async with pair.serve_raw(None, respond) as server:
        return await open_and_close(pair, server.url, **kwargs)


URI_CASES = [
    (f"handshake-client.invalid-uri-{index}", f"connect({uri!r}) is an invalid URI", {"uri": uri})
    for index, uri in enumerate(["http://x", "ws://", "wss://[::1", "ftp://host/", "ws://h:port/"])
]


@family("connect", URI_CASES, sides="client")
async def invalid_uri(pair: Pair, uri: str) -> Any:
    """An invalid URI raises InvalidURI before any I/O."""
    return await open_and_close(pair, uri)


@scenario("connect", sides="client")
async def open_timeout(pair: Pair) -> Any:
    """A server that never answers the upgrade: connect raises TimeoutError after open_timeout."""
    async with pair.serve_raw(None, lambda request: None) as server:
        return await open_and_close(pair, server.url, open_timeout=0.2)


@scenario("connect")
async def await_form(pair: Pair) -> Any:
    """ws = await connect(url) opens a connection that close() closes."""
    async with pair.serve(hold) as url:
        ws = await pair.client_module.connect(url, close_timeout=0.5)
        opened = trace.state(ws)
        await ws.close()
        return {"opened": opened, "closed": closed(ws)}


@scenario("connect")
async def async_with_form(pair: Pair) -> Any:
    """async with connect(url) closes with 1000 on exit."""
    async with pair.serve(hold) as url:
        async with pair.connect(url) as ws:
            opened = trace.state(ws)
        return {"opened": opened, "closed": closed(ws)}


def request_view(ws: Any, names: Iterable[str]) -> Any:
    """Selected request headers as the server saw them (all values of each)."""
    return {name: ws.request.headers.get_all(name) for name in names}


HEADER_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-client.additional-headers-dict", "additional_headers as a dict",
     {"kwargs": {"additional_headers": {"X-Token": "abc"}}, "names": ["X-Token"]}),
    ("handshake-client.additional-headers-list", "additional_headers as a list of pairs",
     {"kwargs": {"additional_headers": [("X-A", "1"), ("X-A", "2")]}, "names": ["X-A"]}),
    ("handshake-client.user-agent-custom", "a custom user_agent_header",
     {"kwargs": {"user_agent_header": "tester/1.0"}, "names": ["User-Agent"]}),
    ("handshake-client.user-agent-none", "user_agent_header=None sends no User-Agent",
     {"kwargs": {"user_agent_header": None}, "names": ["User-Agent"]}),
    ("handshake-client.origin", "origin sets the Origin header",
     {"kwargs": {"origin": "https://example.com"}, "names": ["Origin"]}),
    ("handshake-client.no-origin", "no Origin header by default",
     {"kwargs": {}, "names": ["Origin"]}),
    ("handshake-client.request-basics", "Upgrade, Connection and version headers",
     {"kwargs": {}, "names": ["Upgrade", "Connection", "Sec-WebSocket-Version"]}),
    ("handshake-client.compression-default", "permessage-deflate is offered by default",
     {"kwargs": {}, "names": ["Sec-WebSocket-Extensions"]}),
    ("handshake-client.compression-none", "compression=None offers no extension",
     {"kwargs": {"compression": None}, "names": ["Sec-WebSocket-Extensions"]}),
]


@family("handshake", HEADER_CASES)
async def request_headers(pair: Pair, kwargs: dict[str, Any], names: list[str]) -> Any:
    """Client options show up in the request headers the server handler sees."""

    async def body(ws: Any) -> Any:
        return request_view(ws, names)

    recorder = Recorder(body)
    async with pair.serve(recorder) as url, pair.connect(url, **kwargs):
        return await recorder.wait(pair)


SUBPROTOCOL_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake.subprotocol-overlap", "the first server preference the client offers wins",
     {"client": ["a", "b"], "server": ["c", "b", "a"]}),
    ("handshake.subprotocol-none-offered", "no subprotocol offered, server has some",
     {"client": None, "server": ["a"]}),
    ("handshake.subprotocol-server-none", "the client offers, the server supports none",
     {"client": ["a"], "server": None}),
    ("handshake.subprotocol-no-overlap", "no overlap between client and server lists",
     {"client": ["a"], "server": ["b"]}),
    ("handshake.select-subprotocol", "select_subprotocol picks the last offer",
     {"client": ["a", "b"], "server": None, "select": True}),
]


@family("handshake", SUBPROTOCOL_CASES)
async def subprotocols(
    pair: Pair, client: list[str] | None, server: list[str] | None, select: bool = False
) -> Any:
    """Negotiated subprotocol on both sides, or how the handshake fails."""
    options: dict[str, Any] = {"subprotocols": server}
    if select:
        options["select_subprotocol"] = lambda connection, offered: offered[-1]

    async def body(ws: Any) -> Any:
        return ws.subprotocol

    recorder = Recorder(body)
    async with pair.serve(recorder, **options) as url:
        outcome = await open_and_close(pair, url, lambda ws: ws.subprotocol, subprotocols=client)
        server_side = await recorder.wait(pair) if "result" in outcome else None
        return {"client": outcome, "server": server_side}


@scenario("connect")
async def host_port_kwargs(pair: Pair) -> Any:
    """host and port keyword arguments override the URI's."""
    async with pair.serving(hold) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with pair.connect("ws://invalid.invalid:1/", host="127.0.0.1", port=port) as ws:
            return {"remote_port_matches": ws.remote_address[1] == port, "state": trace.state(ws)}


@scenario("connect")
async def sock_kwarg(pair: Pair) -> Any:
    """sock= uses an already connected socket."""
    async with pair.serving(hold) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        sock = socket.create_connection(("127.0.0.1", port), timeout=pair.timeout)
        sock.setblocking(False)
        async with pair.connect(f"ws://127.0.0.1:{port}/", sock=sock) as ws:
            state = trace.state(ws)
        return {"state": state, "closed": closed(ws)}


@scenario("connect")
async def reconnect_iteration(pair: Pair) -> Any:
    """async for ws in connect(url) opens a new connection on each iteration."""
    count = 0

    async def handler(ws: Any) -> None:
        nonlocal count
        count += 1
        await ws.send(str(count))
        await hold(ws)

    received = []
    async with pair.serve(handler) as url:
        connections = aiter(pair.client_module.connect(url, close_timeout=0.5))
        try:
            async for ws in connections:
                received.append(await pair.catch(ws.recv()))
                if len(received) == 3:
                    break
        finally:
            # Close the last connection now rather than when the iterator is collected.
            aclose = getattr(connections, "aclose", None)
            if aclose is not None:
                await aclose()
    return received


COMPRESSION_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake.compression-both", "both sides default to permessage-deflate",
     {"client": "deflate", "server": "deflate"}),
    ("handshake.compression-server-off", "the server disables compression",
     {"client": "deflate", "server": None}),
    ("handshake.compression-client-off", "the client disables compression",
     {"client": None, "server": "deflate"}),
]


@family("handshake", COMPRESSION_CASES)
async def compression(pair: Pair, client: str | None, server: str | None) -> Any:
    """Negotiated extensions, and a compressible message echoed intact."""
    async with pair.serve(echo, compression=server) as url, pair.connect(
        url, compression=client
    ) as ws:
        message = "compressible " * 1000
        await ws.send(message)
        echoed = await pair.catch(ws.recv())
        return {
            "extensions": ws.response.headers.get("Sec-WebSocket-Extensions"),
            "echo_intact": echoed.get("result") == ["str", message],
        }
