"""connect() following HTTP redirects: statuses, Location forms, limits and security checks."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

from ..raw import RawServer, Request, default_response, http_response
from ..scenario import Pair, family, scenario
from ._shapes import Recorder, hold
from .hooks import handshake, make_response
from .tls import server_context, trusting_context

PORT = re.compile(r":\d{2,5}\b")


def portless(value: Any) -> Any:
    """``value`` with every ``:<port>`` replaced, since ports change from run to run."""
    if isinstance(value, str):
        return PORT.sub(":<port>", value)
    if isinstance(value, dict):
        return {key: portless(item) for key, item in value.items()}
    if isinstance(value, list):
        return [portless(item) for item in value]
    return value


def redirector(status: int, location: str | None, origin: str = "/start") -> Any:
    """Answer ``origin`` with ``status`` and ``location``; accept the upgrade elsewhere."""

    def respond(request: Request) -> bytes:
        if request.path != origin:
            return default_response(request)
        headers = [] if location is None else [("Location", location)]
        return http_response(status, reason="Redirect", headers=headers)

    return respond


SHOWN = ("Authorization", "Cookie", "X-Kept")


def requests_view(server: RawServer) -> list[Any]:
    """Path and selected headers of every request a raw server received."""
    return [
        {"path": request.path,
         **{name: request.header(name) for name in SHOWN if request.header(name) is not None}}
        for request in server.requests
    ]


def request_path(ws: Any) -> Any:
    """The path of the handshake request that opened the connection."""
    return ws.request.path


async def handled_path(ws: Any) -> Any:
    """:func:`request_path`, as a server handler body."""
    return request_path(ws)


CASES: list[tuple[str, str, dict[str, Any]]] = [
    *(
        (f"redirects.status-{status}", f"HTTP {status} to another server is followed",
         {"status": status, "location": "{other}/final"})
        for status in (300, 301, 302, 303, 307, 308)
    ),
    ("redirects.relative-absolute-path", "a Location with an absolute path, same server",
     {"status": 302, "location": "/final"}),
    ("redirects.relative-path", "a Location relative to the request path",
     {"status": 302, "location": "final?x=1"}),
    ("redirects.same-origin-url", "a full URL on the same server",
     {"status": 307, "location": "{self}/final"}),
    ("redirects.missing-location", "a 302 without Location is a rejection",
     {"status": 302, "location": None}),
    ("redirects.not-modified", "a 304 with Location isn't a redirect", {
        "status": 304, "location": "/final"}),
    ("redirects.http-scheme", "a Location with an http:// URL",
     {"status": 302, "location": "http://127.0.0.1:9/final"}),
    ("redirects.loop", "a server that always redirects: more than the limit",
     {"status": 302, "location": "/start"}),
    ("redirects.cross-origin-strips-credentials",
     "a cross-origin redirect drops Authorization and Cookie from additional_headers",
     {"status": 302, "location": "{other}/final",
      "kwargs": {"additional_headers": {"Authorization": "Basic dTpw", "Cookie": "a=1",
                                        "X-Kept": "1"}}}),
    ("redirects.same-origin-keeps-credentials",
     "a same-origin redirect keeps every additional header",
     {"status": 302, "location": "/final",
      "kwargs": {"additional_headers": {"Authorization": "Basic dTpw", "Cookie": "a=1",
                                        "X-Kept": "1"}}}),
    ("redirects.uri-credentials-relative", "URI credentials are sent again on the same server",
     {"status": 302, "location": "/final", "userinfo": "u:p"}),
    ("redirects.uri-credentials-cross-origin", "URI credentials aren't sent to another server",
     {"status": 302, "location": "{other}/final", "userinfo": "u:p"}),
    ("redirects.cross-origin-explicit-port", "a cross-origin redirect with host= and port= set",
     {"status": 302, "location": "{other}/final", "explicit_port": True}),
]


@family("connect", CASES, sides="client")
async def redirect(
    pair: Pair,
    status: int,
    location: str | None,
    kwargs: dict[str, Any] | None = None,
    userinfo: str | None = None,
    explicit_port: bool = False,
) -> Any:
    """A raw server redirects /start; the trace is the outcome and what each server saw."""
    async with pair.serve_raw() as other, pair.serve_raw() as first:
        if location is not None:
            location = location.format(other=other.url.rstrip("/"), self=first.url.rstrip("/"))
        first.respond = redirector(status, location)
        url = f"{first.url}start"
        options = dict(kwargs or {})
        if userinfo is not None:
            url = url.replace("ws://", f"ws://{userinfo}@")
        if explicit_port:
            port = int(first.url.rstrip("/").rpartition(":")[2])
            options.update(host="127.0.0.1", port=port)
        outcome = await handshake(pair, url, request_path, **options)
    return portless({
        "connect": outcome,
        "first": requests_view(first),
        "other": requests_view(other),
    })


@scenario("connect", sides="client")
async def preexisting_socket(pair: Pair) -> Any:
    """A redirect can't be followed over a socket passed with sock=."""
    async with pair.serve_raw(None, redirector(302, "/final", origin="/")) as server:
        port = int(server.url.rstrip("/").rpartition(":")[2])
        sock = socket.create_connection(("127.0.0.1", port), timeout=pair.timeout)
        sock.setblocking(False)
        with sock:
            outcome = await handshake(pair, server.url, request_path, sock=sock)
        return portless({"connect": outcome, "requests": requests_view(server)})


@contextlib.asynccontextmanager
async def tls_redirector(location: str) -> AsyncIterator[tuple[str, list[str]]]:
    """A TLS server answering every request with 302 to ``location``; yield its URL and paths."""
    paths: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            head = await reader.readuntil(b"\r\n\r\n")
            paths.append(head.split(b" ", 2)[1].decode())
            writer.write(http_response(302, reason="Found", headers=[("Location", location)]))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context())
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"wss://localhost:{port}/start", paths
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await server.wait_closed()


@scenario("connect", sides="client")
async def tls_downgrade(pair: Pair) -> Any:
    """A redirect from wss:// to ws:// is refused with SecurityError."""
    async with pair.serve_raw() as plain, tls_redirector(f"{plain.url}final") as (url, paths):
        outcome = await handshake(pair, url, request_path, ssl=trusting_context())
    return portless({"connect": outcome, "tls": paths, "plain": requests_view(plain)})


@scenario("connect", sides="client")
async def tls_loop(pair: Pair) -> Any:
    """A wss:// server redirecting to its own /final every time: the redirect limit holds."""
    async with tls_redirector("/final") as (url, paths):
        outcome = await handshake(pair, url, request_path, ssl=trusting_context())
    return portless({"connect": outcome, "tls": paths})


@scenario("connect")
async def process_request_redirect(pair: Pair) -> Any:
    """The server's process_request redirects /old to /new; the client follows it."""

    def hook(connection: Any, request: Any) -> Any:
        if request.path == "/old":
            return make_response(pair, 302, "Found", [("Location", "/new")], b"")
        return None

    recorder = Recorder(handled_path)
    async with pair.serve(recorder, process_request=hook, path="/old") as url:
        outcome = await handshake(pair, url, request_path)
        return {"client": outcome, "server": await recorder.wait(pair)}


@scenario("connect")
async def process_request_redirect_loop(pair: Pair) -> Any:
    """process_request always redirects: the client gives up with SecurityError."""
    count = 0

    def hook(connection: Any, request: Any) -> Any:
        nonlocal count
        count += 1
        return make_response(pair, 301, "Moved Permanently", [("Location", "/again")], b"")

    async with pair.serve(hold, process_request=hook) as url:
        outcome = await handshake(pair, url)
    return {"client": outcome, "requests": count}
