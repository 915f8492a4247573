"""route(), unix_route() and Router: dispatch by werkzeug URL map, 404, redirects, host rules."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from werkzeug.routing import Map, Rule

from .. import trace
from ..raw import OP_TEXT
from ..scenario import CONNECTION_DEFAULTS, Pair, family, scenario
from ._shapes import hold
from .hooks import make_response, response_view
from .redirects import portless
from .tls import server_context, trusting_context

Endpoint = Callable[..., Awaitable[None]]

# A fixed handshake key, so that a raw request written out in full can be checked.
KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def endpoint(name: str) -> Endpoint:
    """A handler sending its name and URL parameters (type and value) as JSON, then holding."""

    async def handler(ws: Any, **params: Any) -> None:
        shown = {key: [type(value).__name__, str(value)] for key, value in params.items()}
        await ws.send(json.dumps({"handler": name, "params": shown}, sort_keys=True))
        await hold(ws)

    handler.__name__ = name
    return handler


def router_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the suite's short timeouts."""
    return {**CONNECTION_DEFAULTS, **kwargs}


@contextlib.asynccontextmanager
async def routing(pair: Pair, url_map: Map, **kwargs: Any) -> AsyncIterator[Any]:
    """Run the server target's route() on 127.0.0.1; yield the server."""
    server = await pair.router_module.route(url_map, "127.0.0.1", 0, **router_options(kwargs))
    try:
        yield server
    finally:
        await pair.stop(server)


async def visit(pair: Pair, url: str, **kwargs: Any) -> Any:
    """Connect: the path finally requested and what the handler sent, or the exception."""
    try:
        async with asyncio.timeout(pair.timeout), pair.connect(url, **kwargs) as ws:
            return {"path": ws.request.path, "sent": json.loads(await ws.recv())}
    except Exception as exc:
        view = trace.exception(exc)
        response = getattr(exc, "response", None)
        if response is not None and hasattr(response, "status_code"):
            view["response"] = response_view(response)
        return portless(view)


def upgrade_request(path: str, host: str | None) -> bytes:
    """An upgrade request for ``path`` with the given Host header, or none."""
    lines = [
        f"GET {path} HTTP/1.1",
        *([] if host is None else [f"Host: {host}"]),
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {KEY}",
        "Sec-WebSocket-Version: 13",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def raw_visit(pair: Pair, url: str, path: str, host: str | None = "default") -> Any:
    """A raw client's upgrade to ``path``: the response, then the handler's first message."""
    if host == "default":
        host = url.removeprefix("ws://").rstrip("/")
    async with pair.connect_raw(url, request=upgrade_request(path, host)) as conn:
        view: dict[str, Any] = {
            **conn.handshake_trace(KEY),
            "location": conn.header("Location"),
            "content_type": conn.header("Content-Type"),
        }
        if conn.status == 101:
            frame = await conn.read_frame()
            view["sent"] = (
                json.loads(frame.payload) if frame is not None and frame.opcode == OP_TEXT
                else None
            )
            await conn.send_close()
            await conn.close_handshake()
    return portless(view)


def converter_map() -> Map:
    """One rule per werkzeug converter, each to its own handler."""
    return Map([
        Rule("/", endpoint=endpoint("home")),
        Rule("/string/<name>", endpoint=endpoint("string")),
        Rule("/length/<string(length=2):code>", endpoint=endpoint("length")),
        Rule("/int/<int:number>", endpoint=endpoint("int")),
        Rule("/signed/<int(signed=True):number>", endpoint=endpoint("signed")),
        Rule("/digits/<int(fixed_digits=3):number>", endpoint=endpoint("digits")),
        Rule("/float/<float:value>", endpoint=endpoint("float")),
        Rule("/path/<path:rest>", endpoint=endpoint("path")),
        Rule("/uuid/<uuid:id>", endpoint=endpoint("uuid")),
        Rule("/any/<any(red, blue):color>", endpoint=endpoint("any")),
        Rule("/pair/<int:a>/<a_name>", endpoint=endpoint("pair")),
    ])


PATH_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"router.path.{case_id}", title, {"path": path})
    for case_id, title, path in [
        ("root", "/ goes to its handler with no parameters", "/"),
        ("string", "the default converter passes a str", "/string/alice"),
        ("string-encoded", "a percent-encoded segment, as received", "/string/caf%C3%A9"),
        ("string-slash", "the default converter doesn't match a slash", "/string/a/b"),
        ("length", "string(length=2) matches exactly two characters", "/length/fr"),
        ("length-wrong", "string(length=2) rejects three characters", "/length/fra"),
        ("int", "int converts to an int", "/int/42"),
        ("int-not-a-number", "int doesn't match letters", "/int/forty"),
        ("int-negative", "int doesn't match a sign by default", "/int/-3"),
        ("signed", "int(signed=True) converts a negative number", "/signed/-3"),
        ("digits", "int(fixed_digits=3) matches 007", "/digits/007"),
        ("float", "float converts to a float", "/float/2.5"),
        ("path", "path matches slashes", "/path/a/b/c.txt"),
        ("uuid", "uuid converts to a UUID",
         "/uuid/12345678-1234-5678-1234-567812345678"),
        ("uuid-invalid", "uuid rejects what isn't one", "/uuid/not-a-uuid"),
        ("any", "any(red, blue) matches a listed value", "/any/blue"),
        ("any-other", "any(red, blue) rejects another value", "/any/green"),
        ("several", "several parameters are passed together", "/pair/7/seven"),
        ("query", "the query string is ignored by matching", "/int/5?x=1&y=2"),
        ("params", "a ;parameter of the last segment is ignored by matching", "/int/5;x"),
        ("trailing-slash", "a slash after a rule without one isn't found", "/int/5/"),
        ("unknown", "a path no rule matches: 404 Not Found", "/nowhere"),
        ("case", "matching is case-sensitive", "/INT/5"),
    ]
]


@family("router", PATH_CASES, seed="router")
async def dispatch(pair: Pair, path: str) -> Any:
    """route() with one rule per converter; the client connects to one path."""
    async with routing(pair, converter_map()) as server:
        return await visit(pair, pair.url(server, path))


@scenario("router", seed="router")
async def not_found_response(pair: Pair) -> Any:
    """404 for an unknown path: status, headers and body, then a matching path still opens."""
    async with routing(pair, converter_map()) as server:
        missing = await visit(pair, pair.url(server, "/missing"))
        found = await visit(pair, pair.url(server, "/int/1"))
    return {"missing": missing, "found": found, "logged": pair.logged_errors()}


@scenario("router", seed="router", sides="server")
async def not_found_bytes(pair: Pair) -> Any:
    """404 for an unknown path, as a raw client reads it."""
    async with routing(pair, converter_map()) as server:
        return await raw_visit(pair, pair.url(server), "/missing")


def redirect_map() -> Map:
    """Rules that make werkzeug ask for redirects."""
    page = endpoint("page")  # one endpoint: /page/1 is the default of /page/
    return Map(
        [
            Rule("/dir/", endpoint=endpoint("dir")),
            Rule("/old/<int:number>", redirect_to="/new/<number>"),
            Rule("/new/<int:number>", endpoint=endpoint("new")),
            Rule("/page/", defaults={"number": 1}, endpoint=page),
            Rule("/page/<int:number>", endpoint=page),
            Rule("/a/b", endpoint=endpoint("ab")),
        ],
    )


REDIRECT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"router.redirect.{case_id}", title, {"path": path})
    for case_id, title, path in [
        ("strict-slash", "a missing trailing slash redirects to the rule's URL", "/dir"),
        ("strict-slash-query", "the query string is kept on the redirect", "/dir?x=1"),
        ("redirect-to", "a rule's redirect_to, with its parameter", "/old/3"),
        ("defaults", "a URL equal to a rule's defaults redirects to that rule", "/page/1"),
        ("not-defaults", "another value of the parameter opens directly", "/page/2"),
        ("merge-slashes", "repeated slashes redirect to the merged path", "/a//b"),
        ("no-redirect", "the canonical URL opens directly", "/dir/"),
    ]
]


@family("router", REDIRECT_CASES, seed="router")
async def follow_redirect(pair: Pair, path: str) -> Any:
    """A redirect of the router, which the client follows (or not)."""
    async with routing(pair, redirect_map()) as server:
        return await visit(pair, pair.url(server, path))


@family("router", [
    (f"router.redirect-bytes.{case_id}", title, {"path": path, "options": options})
    for case_id, title, path, options in [
        ("strict-slash", "302 Found to the slashed URL, built from the Host header", "/dir", {}),
        ("redirect-to", "302 Found to a redirect_to target", "/old/3?x=1", {}),
        ("server-name", "server_name replaces the Host header in redirects", "/dir",
         {"server_name": "example.test"}),
        ("ssl-true", "ssl=True (TLS ended by a proxy) makes redirects wss://", "/dir",
         {"ssl": True}),
    ]
], seed="router", sides="server")
async def redirect_bytes(pair: Pair, path: str, options: dict[str, Any]) -> Any:
    """A router redirect, as a raw client reads it."""
    async with routing(pair, redirect_map(), **options) as server:
        return await raw_visit(pair, pair.url(server), path)


def host_map() -> Map:
    """Host rules for two names, and one for this machine with the port as a parameter."""
    return Map(
        [
            Rule("/", host="alpha.test", endpoint=endpoint("alpha")),
            Rule("/", host="beta.test", endpoint=endpoint("beta")),
            Rule("/<int:number>", host="beta.test", endpoint=endpoint("beta-number")),
            Rule("/", host="127.0.0.1:<int:port>", endpoint=endpoint("local")),
            Rule("/dir/", host="alpha.test", endpoint=endpoint("alpha-dir")),
        ],
        host_matching=True,
    )


HOST_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"router.host.{case_id}", title, {"path": path, "host": host, "options": options})
    for case_id, title, path, host, options in [
        ("alpha", "the Host header selects the alpha.test rule", "/", "alpha.test", {}),
        ("beta", "the Host header selects the beta.test rule", "/", "beta.test", {}),
        ("beta-number", "a host rule with a path parameter", "/9", "beta.test", {}),
        ("case", "host names match case-insensitively", "/", "BETA.TEST", {}),
        ("unknown-host", "a host no rule names: 404", "/", "gamma.test", {}),
        ("host-with-port", "a port in Host is part of the host matched", "/",
         "alpha.test:8080", {}),
        ("redirect", "a redirect keeps the requested host", "/dir", "alpha.test", {}),
        ("server-name", "server_name is matched instead of the Host header", "/",
         "gamma.test", {"server_name": "alpha.test"}),
        ("no-host", "a request without Host: the router fails, 500", "/", None, {}),
    ]
]


@family("router", HOST_CASES, seed="router", sides="server")
async def host_rules(pair: Pair, path: str, host: str | None, options: dict[str, Any]) -> Any:
    """A map with host_matching; a raw client sends the Host header."""
    async with routing(pair, host_map(), **options) as server:
        seen = await raw_visit(pair, pair.url(server), path, host)
    return {"seen": seen, "logged": pair.logged_errors()}


@scenario("router", seed="router")
async def host_parameter(pair: Pair) -> Any:
    """A host rule with the port as an int parameter, reached by the client target."""
    async with routing(pair, host_map()) as server:
        port = server.sockets[0].getsockname()[1]
        seen = await visit(pair, pair.url(server))
    sent = seen.pop("sent", {})
    return {
        **seen,
        "handler": sent.get("handler"),
        "port_matches": sent.get("params") == {"port": ["int", str(port)]},
    }


@scenario("router", seed="router")
async def handler_raises(pair: Pair) -> Any:
    """A routed handler raising: the connection closes with 1011 and the error is logged."""

    async def failing(ws: Any, number: int) -> None:
        raise RuntimeError(f"handler failed on {number}")

    url_map = Map([Rule("/fail/<int:number>", endpoint=failing)])
    async with routing(pair, url_map) as server, pair.connect(pair.url(server, "/fail/4")) as ws:
        outcome = await pair.catch(ws.recv())
    # The server logs once the closing handshake is over: read the logs after it stopped.
    return {
        "recv": outcome,
        "close_code": trace.data(ws.close_code),
        "logged": pair.logged_errors(),
    }


@scenario("router", seed="router")
async def handler_signature(pair: Pair) -> Any:
    """A handler not accepting the URL parameters fails like any handler raising."""

    async def no_params(ws: Any) -> None:
        await ws.send("unreachable")

    url_map = Map([Rule("/item/<int:number>", endpoint=no_params)])
    async with routing(pair, url_map) as server, pair.connect(pair.url(server, "/item/1")) as ws:
        outcome = await pair.catch(ws.recv())
    return {"recv": outcome, "logged": pair.logged_errors()}


@scenario("router", seed="router")
async def connection_attributes(pair: Pair) -> Any:
    """The routed connection holds the matched handler and its parameters."""
    seen: dict[str, Any] = {}

    async def handler(ws: Any, **params: Any) -> None:
        seen["handler"] = ws.handler.__name__
        seen["handler_kwargs"] = {key: repr(value) for key, value in ws.handler_kwargs.items()}
        await ws.send("ok")

    url_map = Map([Rule("/<name>/<int:number>", endpoint=handler)])
    async with routing(pair, url_map) as server:
        seen["connect"] = await visit_text(pair, pair.url(server, "/x/2"))
    return seen


async def visit_text(pair: Pair, url: str, **kwargs: Any) -> Any:
    """Connect and receive one message, or the exception."""

    async def attempt() -> Any:
        async with pair.connect(url, **kwargs) as ws:
            return await ws.recv()

    return portless(await pair.catch(attempt()))


@scenario("router", seed="router")
async def await_and_async_with(pair: Pair) -> Any:
    """``await route(...)`` and ``async with route(...)`` both serve, then close."""
    url_map = Map([Rule("/", endpoint=endpoint("home"))])
    awaited = await pair.router_module.route(url_map, "127.0.0.1", 0, **router_options({}))
    try:
        result = {
            "awaited": type(awaited).__name__,
            "awaited_serving": awaited.is_serving(),
            "awaited_visit": await visit(pair, pair.url(awaited)),
        }
    finally:
        awaited.close()
        await awaited.wait_closed()
    result["awaited_closed"] = not awaited.is_serving()
    route = pair.router_module.route(url_map, "127.0.0.1", 0, **router_options({}))
    async with route as server:
        result["entered"] = type(server).__name__
        result["entered_visit"] = await visit(pair, pair.url(server))
    result["exited_serving"] = server.is_serving()
    return result


@scenario("router", seed="router")
async def serve_forever(pair: Pair) -> Any:
    """The server from route() runs with serve_forever() until cancelled."""
    url_map = Map([Rule("/", endpoint=endpoint("home"))])
    server = await pair.router_module.route(
        url_map, "127.0.0.1", 0, start_serving=False, **router_options({})
    )
    before = server.is_serving()
    task = asyncio.create_task(server.serve_forever())
    async with asyncio.timeout(pair.timeout):
        while not server.is_serving():
            await asyncio.sleep(0.01)
    seen = await visit(pair, pair.url(server))
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return {"before": before, "seen": seen, "serving": server.is_serving()}


HOOK_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"router.process-request.{case_id}", title, {"mode": mode})
    for case_id, title, mode in [
        ("sync-continue", "a function returning None: routing follows", "sync"),
        ("async-continue", "a coroutine returning None: routing follows", "async"),
        ("rejects", "the hook's response wins over routing, even on a routed path", "reject"),
        ("raises", "the hook raising: 500, routing never runs", "raise"),
    ]
]


@family("router", HOOK_CASES, seed="router")
async def process_request_first(pair: Pair, mode: str) -> Any:
    """route(process_request=...): the hook sees every request before the router."""
    seen: list[str] = []

    def sync_hook(connection: Any, request: Any) -> Any:
        seen.append(request.path)
        if mode == "raise":
            raise RuntimeError("hook failed")
        if mode == "reject" and request.path.startswith("/int/"):
            return make_response(pair, 403, "Forbidden", [("X-Reason", "hooked")], b"no\n")
        return None

    async def async_hook(connection: Any, request: Any) -> Any:
        await asyncio.sleep(0)
        return sync_hook(connection, request)

    hook = async_hook if mode == "async" else sync_hook
    async with routing(pair, converter_map(), process_request=hook) as server:
        outcomes = {path: await visit(pair, pair.url(server, path))
                    for path in ("/int/1", "/missing", "/string/x")}
    return {"outcomes": outcomes, "seen": seen, "logged": pair.logged_errors()}


@scenario("router", seed="router")
async def process_response_sees_routing(pair: Pair) -> Any:
    """route(process_response=...): the hook sees the router's 404 and 302 and may change them."""
    seen: list[Any] = []

    async def hook(connection: Any, request: Any, response: Any) -> Any:
        location = portless(response.headers.get("Location"))
        seen.append([request.path, response.status_code, location])
        response.headers["X-Hooked"] = "yes"
        return None

    async with routing(pair, redirect_map(), process_response=hook) as server:
        outcomes = {path: await visit(pair, pair.url(server, path))
                    for path in ("/missing", "/dir", "/new/2")}
    return {"outcomes": outcomes, "seen": seen}


@scenario("router", seed="router")
async def serve_options(pair: Pair) -> Any:
    """Other serve() arguments apply to routed connections: subprotocols, headers, compression."""
    seen: dict[str, Any] = {}

    async def handler(ws: Any, room: str) -> None:
        seen["room"] = room
        seen["subprotocol"] = ws.subprotocol
        await ws.send(room)

    url_map = Map([Rule("/room/<room>", endpoint=handler)])
    options = {"subprotocols": ["chat"], "server_header": "routed/1", "compression": None}
    async with routing(pair, url_map, **options) as server:
        async with pair.connect(pair.url(server, "/room/blue"), subprotocols=["chat"]) as ws:
            seen["recv"] = trace.message(await ws.recv())
            seen["server"] = ws.response.headers.get("Server")
            seen["extensions"] = ws.response.headers.get("Sec-WebSocket-Extensions")
        seen["not_found"] = await visit(pair, pair.url(server, "/elsewhere"))
    return seen


@scenario("router", seed="router")
async def create_router_subclass(pair: Pair) -> Any:
    """create_router=<Router subclass> changes the 404 and redirect answers."""
    base: type = pair.router_module.Router
    calls: list[str] = []

    class Custom(base):  # type: ignore[misc]  # base: a target's class, known at run time
        def not_found(self, connection: Any) -> Any:
            calls.append("not_found")
            return connection.respond(410, "Gone for good\n")

        def redirect(self, connection: Any, url: str) -> Any:
            calls.append(f"redirect {portless(url)}")
            response = connection.respond(301, "Moved\n")
            response.headers["Location"] = url
            return response

        def get_server_name(self, connection: Any, request: Any) -> str:
            calls.append("get_server_name")
            return str(super().get_server_name(connection, request))

    async with routing(pair, redirect_map(), create_router=Custom) as server:
        outcomes = {path: await visit(pair, pair.url(server, path))
                    for path in ("/missing", "/dir", "/dir/")}
    return {"outcomes": outcomes, "calls": calls}


@scenario("router", seed="router")
async def router_class(pair: Pair) -> Any:
    """Router used directly: its attributes, and rules marked as WebSocket rules."""
    url_map = Map([Rule("/a", endpoint=endpoint("a")), Rule("/b/<int:n>", endpoint=endpoint("b"))])
    router = pair.router_module.Router(url_map, "example.test", "wss")
    return {
        "server_name": router.server_name,
        "url_scheme": router.url_scheme,
        "same_map": router.url_map is url_map,
        "websocket_rules": [rule.websocket for rule in url_map.iter_rules()],
        "defaults": pair.router_module.Router(Map()).url_scheme,
    }


@scenario("router", seed="router")
async def method_not_allowed(pair: Pair) -> Any:
    """A rule for POST only: werkzeug's MethodNotAllowed isn't caught, the handshake fails: 500."""
    url_map = Map([Rule("/submit", methods=["POST"], endpoint=endpoint("submit"))])
    async with routing(pair, url_map) as server:
        outcome = await visit(pair, pair.url(server, "/submit"))
    return {"outcome": outcome, "logged": pair.logged_errors()}


@scenario("router", seed="router")
async def tls_routing(pair: Pair) -> Any:
    """route(ssl=<context>) serves wss://; a redirect points to wss:// and is followed."""
    async with routing(pair, redirect_map(), ssl=server_context()) as server:
        url = pair.url(server, "/dir").replace("ws://", "wss://")
        return await visit(pair, url, ssl=trusting_context())


@scenario("router", seed="unix-sockets")
async def unix_routing(pair: Pair) -> Any:
    """unix_route() on a Unix socket: a routed path, a redirect and a 404."""
    outcomes: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "router.sock")
        server = await pair.router_module.unix_route(redirect_map(), path, **router_options({}))
        try:
            for target in ("/new/5", "/dir", "/missing"):
                outcomes[target] = await unix_visit(pair, path, f"ws://localhost{target}")
        finally:
            await pair.stop(server)
    return outcomes


async def unix_visit(pair: Pair, path: str, uri: str) -> Any:
    """unix_connect() to ``path`` for ``uri``: the handler's message, or the exception."""

    async def attempt() -> Any:
        connect = pair.client_module.unix_connect(path, uri, **router_options({}))
        async with connect as ws:
            return {"path": ws.request.path, "sent": json.loads(await ws.recv())}

    return await pair.catch(attempt())


ROOT = pathlib.Path(__file__).resolve().parents[2]

# Run in a fresh interpreter where werkzeug can't be imported.
WITHOUT_WERKZEUG = """
import json, sys
sys.modules["werkzeug"] = None
root = sys.argv[1]
outcomes = {}
def attempt(name, call):
    try:
        outcomes[name] = {"result": repr(call())}
    except Exception as exc:
        outcomes[name] = {"exception": type(exc).__name__, "str": str(exc)}
def load(name):
    module = __import__(root + ".asyncio.router", fromlist=[name])
    return getattr(module, name)
attempt("import", lambda: sorted(__import__(root + ".asyncio.router", fromlist=["x"]).__all__))
attempt("route", lambda: load("route")(None, "127.0.0.1", 0))
attempt("route_kwargs", lambda: load("route")(None, server_name="x", ssl=True))
attempt("unix_route", lambda: load("unix_route")(None, "/tmp/none.sock"))
attempt("Router", lambda: load("Router")(None))
print(json.dumps(outcomes))
"""


@scenario("router", seed="router", sides="server")
async def without_werkzeug(pair: Pair) -> Any:
    """werkzeug not installed: the module imports, route() and unix_route() raise ImportError."""
    target = pair.server_target
    assert target is not None
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WITHOUT_WERKZEUG, target.root,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    async with asyncio.timeout(pair.timeout * 5):
        stdout, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"probe failed: {stderr.decode(errors='replace')}")
    return json.loads(stdout)
