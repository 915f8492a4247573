"""serve() handshake: request validation, Server header, origins, hooks and handler outcome."""

from __future__ import annotations

from typing import Any

from ..raw import RawClient
from ..scenario import Pair, family, scenario
from ._shapes import Recorder, drain, hold, open_and_close

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
SHOWN = ("Upgrade", "Connection", "Sec-WebSocket-Version", "Sec-WebSocket-Protocol",
         "Content-Type", "WWW-Authenticate")


def request(*lines: str, method: str = "GET", version: str = "HTTP/1.1") -> bytes:
    """An HTTP request with the given header lines."""
    head = [f"{method} / {version}", "Host: 127.0.0.1", *lines]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


UPGRADE = ("Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {KEY}")
VERSION = "Sec-WebSocket-Version: 13"


def response_view(client: RawClient) -> Any:
    """Status, accept check, selected headers and body of a raw client's response."""
    return {
        **client.handshake_trace(KEY),
        "headers": {name: client.header(name) for name in SHOWN if client.header(name)},
    }


REQUEST_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-server.valid", "a valid upgrade request", {"raw": request(*UPGRADE, VERSION)}),
    ("handshake-server.plain-get", "a plain GET without Upgrade", {"raw": request()}),
    ("handshake-server.missing-key", "no Sec-WebSocket-Key",
     {"raw": request("Upgrade: websocket", "Connection: Upgrade", VERSION)}),
    ("handshake-server.bad-key", "a Sec-WebSocket-Key that is not 16 bytes",
     {"raw": request("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: abc",
                     VERSION)}),
    ("handshake-server.missing-version", "no Sec-WebSocket-Version", {"raw": request(*UPGRADE)}),
    ("handshake-server.wrong-version", "Sec-WebSocket-Version: 8",
     {"raw": request(*UPGRADE, "Sec-WebSocket-Version: 8")}),
    ("handshake-server.missing-connection", "no Connection header",
     {"raw": request("Upgrade: websocket", f"Sec-WebSocket-Key: {KEY}", VERSION)}),
    ("handshake-server.post", "a POST upgrade request",
     {"raw": request(*UPGRADE, VERSION, method="POST")}),
    ("handshake-server.http10", "an HTTP/1.0 upgrade request",
     {"raw": request(*UPGRADE, VERSION, version="HTTP/1.0")}),
    ("handshake-server.garbage", "a request that is not HTTP", {"raw": b"hello\r\n\r\n"}),
    ("handshake-server.subprotocol", "the server picks the offered subprotocol it supports",
     {"raw": request(*UPGRADE, VERSION, "Sec-WebSocket-Protocol: x, chat"),
      "options": {"subprotocols": ["chat"]}}),
    ("handshake-server.server-header-custom", "server_header sets the Server header",
     {"raw": request(*UPGRADE, VERSION), "options": {"server_header": "test/1"},
      "server_header": True}),
    ("handshake-server.server-header-none", "server_header=None sends no Server header",
     {"raw": request(*UPGRADE, VERSION), "options": {"server_header": None},
      "server_header": True}),
    ("handshake-server.origin-allowed", "an allowed Origin",
     {"raw": request(*UPGRADE, VERSION, "Origin: https://good"),
      "options": {"origins": ["https://good"]}}),
    ("handshake-server.origin-rejected", "a rejected Origin gets 403",
     {"raw": request(*UPGRADE, VERSION, "Origin: https://evil"),
      "options": {"origins": ["https://good"]}}),
    ("handshake-server.origin-missing-rejected", "no Origin when None isn't listed gets 403",
     {"raw": request(*UPGRADE, VERSION), "options": {"origins": ["https://good"]}}),
    ("handshake-server.origin-missing-allowed", "no Origin is allowed when None is listed",
     {"raw": request(*UPGRADE, VERSION), "options": {"origins": ["https://good", None]}}),
]


@family("handshake", REQUEST_CASES, sides="server")
async def raw_request(
    pair: Pair, raw: bytes, options: dict[str, Any] | None = None, server_header: bool = False
) -> Any:
    """A raw client sends an exact request; the trace is the server's response."""
    async with pair.serve(hold, **(options or {})) as url, pair.connect_raw(url, request=raw) as c:
        view = response_view(c)
        if server_header:
            view["server"] = c.header("Server")
        else:
            view["has_server"] = c.header("Server") is not None
        return view


@scenario("serve", sides="server")
async def open_timeout_server(pair: Pair) -> Any:
    """A client that never sends its request is disconnected after open_timeout."""
    async with pair.serve(hold, open_timeout=0.2) as url, pair.connect_raw(
        url, handshake=False
    ) as client:
        frames, eof = await client.read_until_eof(timeout=pair.timeout)
        return {"frames": len(frames), "eof": eof}


@scenario("serve")
async def handler_raises(pair: Pair) -> Any:
    """A handler that raises: the client sees 1011 and the server logs the traceback."""

    async def handler(ws: Any) -> None:
        raise RuntimeError("handler failed")

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        received = await drain(pair, ws)
    return {"client": received, "logged": pair.logged_errors()}


@scenario("serve")
async def handler_returns(pair: Pair) -> Any:
    """A handler that returns: the connection closes with 1000."""

    async def handler(ws: Any) -> None:
        await ws.send("bye")

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        received = await drain(pair, ws)
    return {"client": received, "logged": pair.logged_errors()}


def reject_forbidden(connection: Any, request: Any) -> Any:
    """A process_request hook rejecting with 403 through connection.respond()."""
    return connection.respond(403, "Forbidden\n")


async def async_hook(connection: Any, request: Any) -> None:
    """An asynchronous process_request hook that lets the handshake proceed."""
    return None


def add_header(connection: Any, request: Any, response: Any) -> None:
    """A process_response hook adding a header."""
    response.headers["X-Hooked"] = "yes"


@scenario("serve")
async def process_request_none(pair: Pair) -> Any:
    """A synchronous process_request returning None lets the handshake proceed."""
    seen: list[str] = []

    def hook(connection: Any, request: Any) -> None:
        seen.append(request.path)

    async with pair.serve(hold, process_request=hook, path="/p?q=1") as url:
        return {"connect": await open_and_close(pair, url), "seen": seen}


@scenario("serve")
async def process_response_header(pair: Pair) -> Any:
    """A synchronous process_response can add response headers."""
    async with pair.serve(hold, process_response=add_header) as url:
        probe = await open_and_close(pair, url, lambda ws: ws.response.headers.get("X-Hooked"))
        return probe


@scenario("serve", seed="respond")
async def process_request_respond(pair: Pair) -> Any:
    """process_request rejecting with connection.respond(403, ...)."""
    async with pair.serve(hold, process_request=reject_forbidden) as url:
        outcome = await open_and_close(pair, url)
    return {"connect": outcome, "logged": pair.logged_errors()}


@scenario("serve", seed="async-process-hooks")
async def process_request_async(pair: Pair) -> Any:
    """An asynchronous process_request hook."""
    return await pair.catch(serve_and_connect(pair, process_request=async_hook))


async def serve_and_connect(pair: Pair, **options: Any) -> Any:
    """Serve with ``options`` and connect once, returning the client outcome."""
    async with pair.serve(hold, **options) as url:
        return await open_and_close(pair, url)


BASIC_AUTH_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-server.basic-auth-ok", "static credentials, right password",
     {"userinfo": "user:pass", "static": True}),
    ("handshake-server.basic-auth-wrong", "static credentials, wrong password",
     {"userinfo": "user:nope", "static": True}),
    ("handshake-server.basic-auth-missing", "no credentials sent",
     {"userinfo": None, "static": True}),
    ("handshake-server.basic-auth-sync-check", "a synchronous check_credentials",
     {"userinfo": "user:pass", "static": False}),
]


def check(username: str, password: str) -> bool:
    """A synchronous credentials check."""
    return (username, password) == ("user", "pass")


async def check_async(username: str, password: str) -> bool:
    """An asynchronous credentials check."""
    return check(username, password)


@family("serve", BASIC_AUTH_CASES)
async def basic_auth(pair: Pair, userinfo: str | None, static: bool) -> Any:
    """basic_auth as process_request: the client outcome with credentials in the URI."""
    auth = pair.server_module.basic_auth
    hook = auth(credentials=("user", "pass")) if static else auth(check_credentials=check)
    async with pair.serve(hold, process_request=hook) as url:
        if userinfo:
            url = url.replace("ws://", f"ws://{userinfo}@")
        return await open_and_close(pair, url)


@scenario("serve", seed="async-basic-auth")
async def basic_auth_async_check(pair: Pair) -> Any:
    """basic_auth with an asynchronous check_credentials."""

    async def attempt() -> Any:
        hook = pair.server_module.basic_auth(check_credentials=check_async)
        async with pair.serve(hold, process_request=hook) as url:
            return await open_and_close(pair, url.replace("ws://", "ws://user:pass@"))

    return await pair.catch(attempt())


@scenario("serve")
async def request_path_and_query(pair: Pair) -> Any:
    """The handler sees the request path with its query string."""

    async def body(ws: Any) -> Any:
        return ws.request.path

    recorder = Recorder(body)
    async with pair.serve(recorder, path="/chat/room?x=1&y=%20") as url, pair.connect(url):
        return await recorder.wait(pair)
