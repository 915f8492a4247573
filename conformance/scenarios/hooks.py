"""Synchronous process_request / process_response hooks: continue, reject, rewrite, fail."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .. import trace
from ..raw import RawClient
from ..scenario import Pair, family, scenario
from ._shapes import Recorder, hold

# Response headers worth comparing; Date varies, so only its presence is recorded.
SHOWN = ("Connection", "Content-Type", "Content-Length", "Location", "Server",
         "WWW-Authenticate", "X-Hooked", "X-Reason")


def server_value(value: str) -> str:
    """A Server header, with each library's default (naming it) written "default"."""
    return "default" if value.startswith("Python/") else value


def response_view(response: Any) -> dict[str, Any]:
    """Status, reason, selected headers and body of an HTTP response object."""
    headers = response.headers
    shown = {name: headers.get_all(name) for name in SHOWN if name in headers}
    if "Server" in shown:
        shown["Server"] = [server_value(value) for value in shown["Server"]]
    return {
        "status": int(response.status_code),
        "reason": response.reason_phrase,
        "headers": shown,
        "date": "Date" in headers,
        "body": repr(bytes(response.body)),
    }


def make_response(
    pair: Pair, status: int, reason: str, headers: list[tuple[str, str]], body: bytes
) -> Any:
    """A ``Response`` built with the server target's own classes."""
    target = pair.server_target
    assert target is not None
    http11 = target.module("http11")
    datastructures = target.module("datastructures")
    return http11.Response(status, reason, datastructures.Headers(headers), body)


async def handshake(
    pair: Pair, url: str, probe: Callable[[Any], Any] = lambda ws: response_view(ws.response),
    **kwargs: Any,
) -> Any:
    """Connect once: ``probe(ws)`` if it opens, else the exception with its HTTP response."""
    try:
        async with asyncio.timeout(pair.timeout), pair.connect(url, **kwargs) as ws:
            return {"result": trace.data(probe(ws))}
    except Exception as exc:
        view = trace.exception(exc)
        response = getattr(exc, "response", None)
        if response is not None and hasattr(response, "status_code"):
            view["response"] = response_view(response)
        return view


def forbidden(pair: Pair) -> Any:
    """A 403 response with a custom header and a body."""
    return make_response(
        pair, 403, "Forbidden", [("X-Reason", "hooked"), ("Content-Type", "text/plain")],
        b"go away\n",
    )


REQUEST_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("hooks.request-rejects", "process_request returns a 403 Response with headers and body",
     {"action": "reject"}),
    ("hooks.request-raises", "process_request raises: HTTP 500 and a logged traceback",
     {"action": "raise"}),
    ("hooks.request-reads-request", "process_request reads the path and request headers",
     {"action": "read"}),
    ("hooks.request-teapot", "process_request returns a status websockets has no name for",
     {"action": "teapot"}),
]


@family("serve", REQUEST_CASES)
async def request_hook(pair: Pair, action: str) -> Any:
    """A synchronous process_request hook; the client reports the handshake outcome."""
    seen: list[Any] = []

    def hook(connection: Any, request: Any) -> Any:
        seen.append([request.path, request.headers.get("X-Token")])
        if action == "reject":
            return forbidden(pair)
        if action == "teapot":
            return make_response(pair, 418, "I'm a teapot", [], b"short and stout\n")
        if action == "raise":
            raise RuntimeError("hook failed")
        return None

    async with pair.serve(hold, process_request=hook, path="/hooked?x=1") as url:
        outcome = await handshake(pair, url, additional_headers={"X-Token": "t"})
    return {"connect": outcome, "seen": seen, "logged": pair.logged_errors()}


def rewrite_headers(connection: Any, request: Any, response: Any) -> None:
    """Change the response in place: replace Server, add a header."""
    del response.headers["Server"]
    response.headers["Server"] = "hooked/1"
    response.headers["X-Hooked"] = "yes"


RESPONSE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("hooks.response-rewrites-headers", "process_response changes the headers in place",
     {"action": "rewrite"}),
    ("hooks.response-replaces", "process_response returns a 403 Response instead of 101",
     {"action": "reject"}),
    ("hooks.response-raises", "process_response raises: HTTP 500 and a logged traceback",
     {"action": "raise"}),
    ("hooks.response-sees-status", "process_response sees the 101 and the handler runs",
     {"action": "read"}),
]


@family("serve", RESPONSE_CASES)
async def response_hook(pair: Pair, action: str) -> Any:
    """A synchronous process_response hook; the client reports the handshake outcome."""
    seen: list[Any] = []

    def hook(connection: Any, request: Any, response: Any) -> Any:
        seen.append([request.path, int(response.status_code), "Upgrade" in response.headers])
        if action == "rewrite":
            rewrite_headers(connection, request, response)
        elif action == "reject":
            return forbidden(pair)
        elif action == "raise":
            raise RuntimeError("hook failed")
        return None

    async def body(ws: Any) -> Any:
        return "handler ran"

    recorder = Recorder(body)
    async with pair.serve(recorder, process_response=hook) as url:
        outcome = await handshake(pair, url)
        handled = await recorder.wait(pair) if "result" in outcome else None
    return {"connect": outcome, "seen": seen, "handler": handled, "logged": pair.logged_errors()}


@scenario("serve", sides="server")
async def request_health_check(pair: Pair) -> Any:
    """process_request answers a plain HTTP GET (no Upgrade) with 200, e.g. a health check."""

    def hook(connection: Any, request: Any) -> Any:
        if request.path == "/healthz":
            return make_response(pair, 200, "OK", [("Content-Type", "text/plain")], b"OK\n")
        return None

    get = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    async with pair.serve(hold, process_request=hook) as url, pair.connect_raw(
        url, request=get
    ) as client:
        # Without Content-Length, the body runs until the server closes the connection.
        async with asyncio.timeout(pair.timeout):
            rest = await client.reader.read()
        return {**raw_view(client), "until_eof": repr(rest)}


def raw_view(client: RawClient) -> dict[str, Any]:
    """Status, selected headers and body a raw client read."""
    shown = {name: value for name in SHOWN if (value := client.header(name))}
    if "Server" in shown:
        shown["Server"] = server_value(shown["Server"])
    return {
        "status": client.status,
        "headers": shown,
        "body": repr(client.body),
    }


async def async_response_hook(connection: Any, request: Any, response: Any) -> None:
    """An asynchronous process_response hook that keeps the response."""
    return None


@scenario("serve", seed="async-process-hooks")
async def response_async(pair: Pair) -> Any:
    """An asynchronous process_response hook."""

    async def attempt() -> Any:
        async with pair.serve(hold, process_response=async_response_hook) as url:
            return await handshake(pair, url, lambda ws: int(ws.response.status_code))

    return await pair.catch(attempt())
