"""Edges of the opening handshake: repeated and malformed headers, URIs, connect() reuse.

Server side, a raw client sends exact requests; client side, a raw server sends exact responses
and records the request line and headers the client sent.
"""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from .. import trace
from ..raw import RawClient, RawConnection, Request, accept_key
from ..scenario import Pair, family, scenario
from ._shapes import hold
from .handshake_bytes_client import SWITCHING, Respond, against, attempt

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
UPGRADE = ("Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}")
VERSION = "Sec-WebSocket-Version: 13"
PMD_CLIENT = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits="
PMD_SERVER = b"Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits="
SHOWN = ("Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "WWW-Authenticate")
USERS = [("alice", "wonderland")]
ALICE = base64.b64encode(b"alice:wonderland").decode()


def request(*lines: str, line: str = "GET / HTTP/1.1") -> bytes:
    """An HTTP request with the given header lines after Host."""
    head = [line, "Host: 127.0.0.1", *lines]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")


def upgrading(*lines: str) -> bytes:
    """A valid upgrade request with extra header lines."""
    return request(*UPGRADE, VERSION, *lines)


def response_view(client: RawClient) -> Any:
    """Status, accept check, body and selected headers of the server's response."""
    return {
        **client.handshake_trace(KEY),
        "headers": {name: client.header(name) for name in SHOWN if client.header(name)},
    }


# Server side: requests from a raw client.

REQUEST_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-edges.key-15-bytes", "a Sec-WebSocket-Key of 15 bytes in base64",
     {"raw": request("Upgrade: websocket", "Connection: Upgrade",
                     "Sec-WebSocket-Key: " + base64.b64encode(b"k" * 15).decode(), VERSION)}),
    ("handshake-edges.key-17-bytes", "a Sec-WebSocket-Key of 17 bytes in base64",
     {"raw": request("Upgrade: websocket", "Connection: Upgrade",
                     "Sec-WebSocket-Key: " + base64.b64encode(b"k" * 17).decode(), VERSION)}),
    ("handshake-edges.version-repeated", "two Sec-WebSocket-Version: 13 headers",
     {"raw": upgrading(VERSION)}),
    ("handshake-edges.version-list", "Sec-WebSocket-Version: 13, 13 in one header",
     {"raw": request(*UPGRADE, "Sec-WebSocket-Version: 13, 13")}),
    ("handshake-edges.origin-repeated-origins", "two Origin headers when origins is set",
     {"raw": upgrading("Origin: https://good", "Origin: https://good"),
      "options": {"origins": ["https://good"]}}),
    ("handshake-edges.origin-repeated", "two Origin headers without origins",
     {"raw": upgrading("Origin: https://good", "Origin: https://other")}),
    ("handshake-edges.connection-leading-commas", "Connection: , ,Upgrade",
     {"raw": request("Upgrade: websocket", "Connection: , ,Upgrade", f"Sec-WebSocket-Key: {KEY}",
                     VERSION)}),
    ("handshake-edges.connection-empty-items", "Connection: keep-alive,, ,Upgrade",
     {"raw": request("Upgrade: websocket", "Connection: keep-alive,, ,Upgrade",
                     f"Sec-WebSocket-Key: {KEY}", VERSION)}),
    ("handshake-edges.connection-trailing-comma", "Connection: Upgrade, ,",
     {"raw": request("Upgrade: websocket", "Connection: Upgrade, ,",
                     f"Sec-WebSocket-Key: {KEY}", VERSION)}),
    ("handshake-edges.connection-only-commas", "Connection: ,,",
     {"raw": request("Upgrade: websocket", "Connection: ,,", f"Sec-WebSocket-Key: {KEY}",
                     VERSION)}),
    ("handshake-edges.upgrade-not-protocol", "Upgrade: @websocket",
     {"raw": request("Upgrade: @websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}",
                     VERSION)}),
    ("handshake-edges.upgrade-with-version", "Upgrade: websocket/13",
     {"raw": request("Upgrade: websocket/13", "Connection: Upgrade",
                     f"Sec-WebSocket-Key: {KEY}", VERSION)}),
    ("handshake-edges.upgrade-trailing-comma", "Upgrade: websocket,",
     {"raw": request("Upgrade: websocket,", "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}",
                     VERSION)}),
    ("handshake-edges.subprotocol-commas", "Sec-WebSocket-Protocol: ,chat,,",
     {"raw": upgrading("Sec-WebSocket-Protocol: ,chat,,"),
      "options": {"subprotocols": ["chat"]}}),
    ("handshake-edges.extension-quoted-param", "an extension parameter as a quoted string",
     {"raw": upgrading(PMD_CLIENT + '"10"')}),
    ("handshake-edges.extension-escaped-param", "a quoted extension parameter with escapes",
     {"raw": upgrading(PMD_CLIENT.rstrip("=") + ' = "\\1\\0"')}),
    ("handshake-edges.extension-quoted-not-token", "a quoted extension parameter with a space",
     {"raw": upgrading(PMD_CLIENT + '"1 0"')}),
    ("handshake-edges.extension-quote-unterminated", "an unterminated quoted extension parameter",
     {"raw": upgrading(PMD_CLIENT + '"10')}),
    ("handshake-edges.extension-quoted-empty", "an empty quoted extension parameter",
     {"raw": upgrading(PMD_CLIENT + '""')}),
    ("handshake-edges.extension-commas", "Sec-WebSocket-Extensions: , permessage-deflate,",
     {"raw": upgrading("Sec-WebSocket-Extensions: , permessage-deflate,")}),
]


@family("handshake", REQUEST_CASES, sides="server")
async def raw_request(pair: Pair, raw: bytes, options: dict[str, Any] | None = None) -> Any:
    """A raw client sends an exact request; the server's response."""
    async with pair.serve(hold, **(options or {})) as url, pair.connect_raw(url, request=raw) as c:
        return response_view(c)


QUIET_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-edges.quiet-long-request-line", "a request line over 8192 bytes, no debug logs",
     {"raw": request(*UPGRADE, VERSION, line="GET /" + "a" * 9000 + " HTTP/1.1")}),
    ("handshake-edges.quiet-long-header-line", "a header line over 8192 bytes, no debug logs",
     {"raw": upgrading("X-Long: " + "a" * 9000)}),
    ("handshake-edges.quiet-many-headers", "129 headers, no debug logs",
     {"raw": upgrading(*(f"X-{index}: 1" for index in range(124)))}),
    ("handshake-edges.quiet-not-http", "a request that isn't HTTP, no debug logs",
     {"raw": b"HELO relay.invalid\r\n\r\n"}),
]


@family("handshake", QUIET_CASES, sides="server")
async def quiet_request(pair: Pair, raw: bytes) -> Any:
    """A request the server refuses while its logger doesn't log DEBUG; response and errors."""
    async with pair.serve(hold) as url, pair.connect_raw(url, request=raw) as c:
        view = response_view(c)
        _, eof = await c.read_until_eof()
    return {"response": view, "eof": eof, "errors": pair.logged_errors()}


AUTH_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-edges.auth-scheme-only", "Authorization: Basic",
     {"lines": ["Authorization: Basic"]}),
    ("handshake-edges.auth-no-space", "Authorization: Basic,credentials",
     {"lines": [f"Authorization: Basic,{ALICE}"]}),
    ("handshake-edges.auth-two-spaces", "two spaces after Basic",
     {"lines": [f"Authorization: Basic  {ALICE}"]}),
    ("handshake-edges.auth-trailing-data", "data after the Basic credentials",
     {"lines": [f"Authorization: Basic {ALICE} extra"]}),
    ("handshake-edges.auth-bad-padding", "Basic credentials with incorrect base64 padding",
     {"lines": ["Authorization: Basic YWxpY2U6d29uZGVybGFuZA"]}),
    ("handshake-edges.auth-lowercase-scheme", "authorization: basic in lowercase",
     {"lines": [f"authorization: basic {ALICE}"]}),
    ("handshake-edges.auth-repeated", "two Authorization headers",
     {"lines": [f"Authorization: Basic {ALICE}", f"Authorization: Basic {ALICE}"]}),
    ("handshake-edges.auth-realm-latin1", "a realm with é in WWW-Authenticate",
     {"lines": [], "realm": "caf\xe9"}),
    ("handshake-edges.auth-realm-quotes", "a realm with a quote and a backslash",
     {"lines": [], "realm": 'a "b" \\c'}),
    ("handshake-edges.auth-realm-newline", "a realm with a newline can't be quoted",
     {"lines": [], "realm": "a\nb"}),
    ("handshake-edges.auth-realm-euro", "a realm with € can't be quoted",
     {"lines": [], "realm": "\u20ac"}),
]


@family("serve", AUTH_CASES, sides="server")
async def basic_auth_header(pair: Pair, lines: list[str], realm: str = "websockets") -> Any:
    """basic_auth() and a raw client's Authorization header: response, username, errors."""
    hook = pair.server_module.basic_auth(realm=realm, credentials=USERS)
    usernames: list[Any] = []

    async def handler(ws: Any) -> None:
        usernames.append(ws.username)
        await hold(ws)

    async with pair.serve(handler, process_request=hook) as url:
        async with pair.connect_raw(url, request=upgrading(*lines)) as c:
            view = response_view(c)
            if c.status == 101:
                await c.send_close(1000)
            await c.read_until_eof()
        await asyncio.sleep(0)
    return {"response": view, "usernames": usernames, "errors": pair.logged_errors()}


# Client side: responses from a raw server.


def upgrade_lines(*lines: bytes, accept: bool = True) -> Respond:
    """A 101 response with Upgrade, Connection, the accept key if ``accept``, and ``lines``."""

    def respond(request: Request) -> bytes:
        key = accept_key(request.header("Sec-WebSocket-Key") or "").encode()
        head = [SWITCHING, *lines]
        if accept:
            head.append(b"Sec-WebSocket-Accept: " + key)
        return b"\r\n".join(head).replace(b"{accept}", key) + b"\r\n\r\n"

    return respond


BASE = (b"Upgrade: websocket", b"Connection: Upgrade")
EXTENSIONS_SHOWN = ("Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions")

RESPONSE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-edges.accept-repeated", "two Sec-WebSocket-Accept headers",
     {"lines": [*BASE, b"Sec-WebSocket-Accept: {accept}"]}),
    ("handshake-edges.accept-repeated-different", "two different Sec-WebSocket-Accept headers",
     {"lines": [*BASE, b"Sec-WebSocket-Accept: d3Jvbmc="]}),
    ("handshake-edges.subprotocols-list", "Sec-WebSocket-Protocol: chat, superchat",
     {"lines": [*BASE, b"Sec-WebSocket-Protocol: chat, superchat"]}),
    ("handshake-edges.subprotocols-repeated", "two Sec-WebSocket-Protocol headers",
     {"lines": [*BASE, b"Sec-WebSocket-Protocol: chat", b"Sec-WebSocket-Protocol: superchat"]}),
    ("handshake-edges.subprotocols-same-twice", "Sec-WebSocket-Protocol: chat, chat",
     {"lines": [*BASE, b"Sec-WebSocket-Protocol: chat, chat"]}),
    ("handshake-edges.response-subprotocol-commas", "Sec-WebSocket-Protocol: ,, chat ,",
     {"lines": [*BASE, b"Sec-WebSocket-Protocol: ,, chat ,"]}),
    ("handshake-edges.subprotocol-unoffered", "a subprotocol the client didn't offer",
     {"lines": [*BASE, b"Sec-WebSocket-Protocol: other"]}),
    ("handshake-edges.subprotocol-none-offered", "a subprotocol when the client offered none",
     {"lines": [*BASE, b"Sec-WebSocket-Protocol: chat"], "kwargs": {}}),
    ("handshake-edges.response-upgrade-not-protocol", "Upgrade: /websocket in the response",
     {"lines": [b"Upgrade: /websocket", b"Connection: Upgrade"]}),
    ("handshake-edges.response-upgrade-two", "Upgrade: websocket, h2c in the response",
     {"lines": [b"Upgrade: websocket, h2c", b"Connection: Upgrade"]}),
    ("handshake-edges.response-extension-quoted", "a quoted extension parameter in the response",
     {"lines": [*BASE, PMD_SERVER + b'"10"'],
      "kwargs": {}}),
    ("handshake-edges.response-extension-quoted-bad", "a quoted parameter that isn't a token",
     {"lines": [*BASE, PMD_SERVER + b'"1,0"'],
      "kwargs": {}}),
    ("handshake-edges.response-extension-quote-unterminated", "an unterminated quoted parameter",
     {"lines": [*BASE, PMD_SERVER + b'"10'],
      "kwargs": {}}),
]


@family("connect", RESPONSE_CASES, sides="client")
async def raw_response(
    pair: Pair, lines: list[bytes], kwargs: dict[str, Any] | None = None
) -> Any:
    """A raw server answers with these 101 header lines; the client's outcome."""
    if kwargs is None:
        kwargs = {"subprotocols": ["chat", "superchat"]}

    def probe(ws: Any) -> Any:
        headers = {name: ws.response.headers.get_all(name) for name in EXTENSIONS_SHOWN}
        return {"subprotocol": ws.subprotocol, "headers": headers}

    return await against(pair, upgrade_lines(*lines), probe=probe, **kwargs)


# Client side: what the client sends for unusual URIs.


async def closing(conn: RawConnection) -> None:
    """Finish the closing handshake."""
    await conn.close_handshake()


URI_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-edges.uri-query-no-path", "ws://host?query: the request target is /?query",
     {"uri": "ws://127.0.0.1:{port}?a=1&b"}),
    ("handshake-edges.uri-empty-query", "ws://host/path? with an empty query",
     {"uri": "ws://127.0.0.1:{port}/path?"}),
    ("handshake-edges.uri-non-ascii-path", "non-ASCII characters in the path and query",
     {"uri": "ws://127.0.0.1:{port}/caf\u00e9/\u20ac?q=\u00fc&r=a b"}),
    ("handshake-edges.uri-non-ascii-percent", "a non-ASCII URI that also holds %-escapes",
     {"uri": "ws://127.0.0.1:{port}/%41\u00e9?x=%20\u00e9"}),
    ("handshake-edges.uri-ascii-unsafe", "an ASCII URI with a space and other unsafe bytes",
     {"uri": "ws://127.0.0.1:{port}/a b\"<>?q=a b"}),
    ("handshake-edges.uri-idna-host", "a non-ASCII host name goes out in IDNA",
     {"uri": "ws://B\u00fccher.example/", "override": True}),
    ("handshake-edges.uri-idna-host-port", "a non-ASCII host name with a port",
     {"uri": "ws://caf\u00e9.example:8080/\u00e9", "override": True}),
    ("handshake-edges.uri-ipv6-host", "an IPv6 literal host: Host: [::1]",
     {"uri": "ws://[::1]/", "override": True}),
    ("handshake-edges.uri-ipv6-host-port", "an IPv6 literal host with a port",
     {"uri": "ws://[2001:DB8::1]:8080/x", "override": True}),
    ("handshake-edges.uri-ipv6-secure-default-port", "ws://[::1]:80 omits the default port",
     {"uri": "ws://[::1]:80/", "override": True}),
    ("handshake-edges.uri-uppercase-host", "an uppercase host name",
     {"uri": "ws://EXAMPLE.Com:8080/", "override": True}),
]


@family("connect", URI_CASES, sides="client")
async def uri_request(pair: Pair, uri: str, override: bool = False) -> Any:
    """The client connects to a raw server with this URI; the request target and Host sent."""
    async with pair.serve_raw(closing) as server:
        port = int(server.url.rpartition(":")[2].rstrip("/"))
        kwargs: dict[str, Any] = {"host": "127.0.0.1", "port": port} if override else {}
        outcome = await attempt(pair, uri.replace("{port}", str(port)),
                                lambda ws: ws.request.path, **kwargs)
    # The Host header names the raw server's port, which varies, unless the URI overrides it.
    expected = f"127.0.0.1:{port}"
    sent = [
        {"path": request.path,
         "host": request.header("Host") if override else request.header("Host") == expected}
        for request in server.requests
    ]
    return {"outcome": outcome, "sent": sent}


INVALID_URIS = [
    "ws://caf\u00e9..example/",
    "ws://" + "\u00e9" * 70 + ".example/",
    "ws://caf\u00e9.example/#fragment",
    "ws://user@caf\u00e9.example/",
    "ws://:80/",
    "http://caf\u00e9.example/",
]


@scenario("connect", sides="client")
async def invalid_uris(pair: Pair) -> Any:
    """Non-ASCII URIs that connect() refuses before connecting: the exceptions."""
    outcomes = []
    for uri in INVALID_URIS:
        outcomes.append(await attempt(pair, uri, host="127.0.0.1", port=9))
    return outcomes


# connect() objects used twice.


@scenario("connect", id="handshake-edges.connect-reentrant")
async def connect_reentrant(pair: Pair) -> Any:
    """async with on the same connect() inside itself: RuntimeError; the outer one still works."""
    async with pair.serve(hold) as url:
        connecting = pair.client_module.connect(url, close_timeout=0.5, open_timeout=2)
        async with connecting as ws:
            inner = await pair.catch(connecting.__aenter__())
            state = trace.state(ws)
        again = None
        async with connecting as ws2:
            again = {"same": ws2 is ws, "state": trace.state(ws2)}
    return {"inner": inner, "outer": state, "after": trace.state(ws), "again": again}


@scenario("connect", id="handshake-edges.connect-awaited-twice")
async def connect_awaited_twice(pair: Pair) -> Any:
    """Awaiting the same connect() twice opens two connections; then async with opens a third."""
    async with pair.serve(hold) as url:
        connecting = pair.client_module.connect(url, close_timeout=0.5, open_timeout=2)
        async with asyncio.timeout(pair.timeout):
            first = await connecting
            second = await connecting
        distinct = first is not second
        states = [trace.state(first), trace.state(second)]
        async with connecting as third:
            entered = {"new": third is not first and third is not second,
                       "state": trace.state(third)}
        await first.close()
        await second.close()
    return {"distinct": distinct, "states": states, "entered": entered,
            "closed": [trace.state(first), trace.state(second), trace.state(third)]}
