"""Generated opening handshakes from a raw peer: targets answer or fail like the reference.

A raw client sends a generated request to a target's server (``serve()``) and records what came
back: the status line, the headers (``Date`` and ``Server`` by presence only), a
``Content-Length`` body, the frames after a 101 and whether the server closed the connection;
the trace adds what the handler saw of the request and the messages it received, and what the
server logged. A raw server answers a target's client (``connect()``) with a generated response;
the trace holds the exception, with its cause and the response it carries, or the response the
open connection exposes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import example, given

from conformance import trace
from conformance.raw import RawConnection, Request, accept_key
from conformance.scenario import Pair, generated_kind, register_property
from conformance.scenarios._shapes import drain
from conformance.scenarios.handshake_bytes_client import attempt
from conformance.targets import REFERENCE, Target

from . import handshakes
from .differential import Harness, Tally, logged, short
from .handshakes import (
    ACCEPT,
    ORIGIN,
    REQUEST_FIELDS,
    REQUEST_KINDS,
    REQUEST_LINE,
    RESPONSE_FIELDS,
    RESPONSE_KINDS,
    STATUS_LINE,
    SUBPROTOCOL,
    Head,
)

# Catalogue ids of the properties; their examples of a kind are judged under the kind's id.
TO_SERVER, TO_CLIENT = "handshake.generated.to-server", "handshake.generated.to-client"
REFERENCE_TARGET = Target(REFERENCE, REFERENCE, "reference")
# recv() calls a handler makes before it stops asking.
RECV_LIMIT = 8
# Response headers whose values differ from run to run or from library to library.
VARYING = ("date", "server")
SERVE_OPTIONS: dict[str, Any] = {
    "subprotocols": [SUBPROTOCOL.decode()],
    "origins": [None, ORIGIN.decode()],
}
CONNECT_OPTIONS: dict[str, Any] = {"subprotocols": [SUBPROTOCOL.decode()], "open_timeout": 1.0}


def fields(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    """The start line and the header names and values of a head, as ISO-8859-1 text."""
    start, *lines = head.decode("latin-1").split("\r\n")
    return start, [(name, value.strip()) for name, _, value in (line.partition(":")
                                                                for line in lines if line)]


async def reply(conn: RawConnection) -> dict[str, Any]:
    """The status line, headers and ``Content-Length`` body the raw client read (bounded)."""
    head, body = b"", b""
    try:
        async with asyncio.timeout(conn.timeout):
            try:
                head = await conn.reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                head = exc.partial
            length = [value for name, value in fields(head)[1] if name.lower() == "content-length"]
            if length and length[0].isdigit():
                with contextlib.suppress(asyncio.IncompleteReadError):
                    body = await conn.reader.readexactly(int(length[0]))
    except (TimeoutError, ConnectionError):
        pass
    status, headers = fields(head)
    return {
        "status": status,
        "headers": [[name, "present" if name.lower() in VARYING else value]
                    for name, value in headers],
        "body": repr(body),
    }


class Handler:
    """A server handler recording the request it got and the messages it received."""

    def __init__(self, pair: Pair) -> None:
        self.pair = pair
        self.records: list[dict[str, Any]] = []

    async def __call__(self, ws: Any) -> None:
        record: dict[str, Any] = {
            "path": ws.request.path,
            "headers": trace.data(list(ws.request.headers.raw_items())),
            "subprotocol": ws.subprotocol,
        }
        self.records.append(record)
        record["recv"] = await drain(self.pair, ws, RECV_LIMIT)


async def exchange(pair: Pair, url: str, head: Head) -> dict[str, Any]:
    """A raw client sends ``head`` (and EOF if it is cut) and reads the response; it closes a 101
    with a close frame, then reads until EOF."""
    async with pair.connect_raw(url, handshake=False) as conn:
        await conn.send(head.data())
        if head.cut is not None:
            with contextlib.suppress(OSError):
                conn.writer.write_eof()
        response = await reply(conn)
        if response["status"].startswith("HTTP/1.1 101 ") and head.cut is None:
            await conn.send_close(1000)
        _, ended = await conn.read_until_eof()
    return {"response": response, "peer_read": [*conn.trace(), {"ended": ended}]}


async def to_server(side: Target, head: Head) -> Any:
    """A raw client sends ``head`` to a server of ``side`` started for it."""
    pair = Pair(None, side)
    handler = Handler(pair)
    with pair.watching_logs() as logs:
        async with pair.serving(handler, **SERVE_OPTIONS) as server:
            seen = await exchange(pair, pair.url(server), head)
    log = events(logs.trace("websockets.server"))
    return short({**seen, "handler": handler.records, "log": log})


def events(log: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The records of a log trace at INFO or above, and the explanations of failed handshakes.

    These are websockets' connection events and the DEBUG lines starting with ``!``; the other
    DEBUG lines echo the request and response, which the trace holds already.
    """
    return {
        group: [
            entry for entry in entries
            if entry["level"] != "DEBUG" or str(entry.get("message")).startswith("!")
        ]
        for group, entries in log.items()
    }


def opened(ws: Any) -> Any:
    """What an open client connection exposes of the response."""
    return {
        "status": ws.response.status_code,
        "reason": ws.response.reason_phrase,
        "headers": list(ws.response.headers.raw_items()),
        "subprotocol": ws.subprotocol,
    }


async def to_client(side: Target, head: Head) -> Any:
    """A client of ``side`` connects to a raw server answering with ``head``.

    The raw server closes the connection once it has sent a response that isn't a 101 or is cut,
    which ends a body read up to the end of the stream; else it completes the closing handshake.
    """
    pair = Pair(side, None)
    opening = head.cut is None and head.start.startswith(b"HTTP/1.1 101 ")

    def respond(request: Request) -> bytes:
        return head.data(accept_key(request.header("Sec-WebSocket-Key") or "").encode())

    async def script(conn: RawConnection) -> None:
        if opening:
            await conn.close_handshake()

    async with pair.serve_raw(script, respond) as server:
        outcome = await attempt(pair, server.url, probe=opened, **CONNECT_OPTIONS)
    accepts = {accept_key(request.header("Sec-WebSocket-Key") or "") for request in server.requests}
    return short(placeholders(outcome, accepts))


def placeholders(value: Any, accepts: set[str]) -> Any:
    """``value`` with the accept values of this run's keys written as the placeholder."""
    if isinstance(value, str):
        for accept in accepts:
            value = value.replace(accept, ACCEPT.decode())
        return value
    if isinstance(value, list):
        return [placeholders(item, accepts) for item in value]
    if isinstance(value, dict):
        return {key: placeholders(item, accepts) for key, item in value.items()}
    return value


async def guarded(awaitable: Awaitable[Any]) -> Any:
    """The trace ``awaitable`` returns, or what the target made the harness raise.

    A peer may lack an attribute the trace reads; its example then differs, like any other.
    """
    try:
        return await awaitable
    except Exception as exc:
        return {"harness": trace.exception(exc)}


async def run(side: Callable[[Target, Head], Awaitable[Any]], target: Target, head: Head) -> Any:
    """The trace of ``head`` against ``target``, with the errors logged meanwhile.

    The harness failing on the reference is an error of the property itself: it is raised.
    """
    traced = side(target, head)
    return await logged(traced if target.role == "reference" else guarded(traced))


def scenario(base: str, kind: str | None) -> str:
    """The catalogue scenario id of an example of this kind."""
    return base if kind is None else generated_kind(base, kind)


# Regressions, and examples of the kinds the catalogue declares differences for.
UPGRADE = b"Upgrade: websocket\r\n"
CONNECTION = b"Connection: Upgrade\r\n"
WRONG_ACCEPT = b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
# Bytes that aren't frames right after a request websockets accepts, or refuses (origin).
GARBAGE_AFTER_REQUEST = Head(REQUEST_LINE, REQUEST_FIELDS, after=b"\na")
GARBAGE_AFTER_REFUSED = Head(
    REQUEST_LINE, (*REQUEST_FIELDS, b"Origin: http://evil.example\r\n"), after=b"\na"
)
# Two Upgrade headers, with the right accept key or a wrong one: websockets refuses the Upgrade
# headers first.
TWO_UPGRADES = Head(STATUS_LINE, (*RESPONSE_FIELDS, UPGRADE))
TWO_UPGRADES_WRONG_ACCEPT = Head(STATUS_LINE, (UPGRADE, UPGRADE, CONNECTION, WRONG_ACCEPT))
# Two accept keys, the first one wrong: websockets refuses two before comparing one.
TWO_ACCEPTS = Head(STATUS_LINE, (UPGRADE, CONNECTION, WRONG_ACCEPT, RESPONSE_FIELDS[2]))
# A status line ended by a bare LF, which picows reads together with the next line.
LF_STATUS_LINE = Head(STATUS_LINE.replace(b"\r\n", b"\n"), RESPONSE_FIELDS)
# A head the raw server cuts before its end.
CUT_HEAD = Head(STATUS_LINE, RESPONSE_FIELDS, cut=len(STATUS_LINE) + len(UPGRADE))
# Two header lines at websockets' limit: a head over 16 KiB.
LONG_LINE = b"X-Long: " + b"x" * (handshakes.limits().line - 10) + b"\r\n"
LARGE_HEAD = Head(STATUS_LINE, (*RESPONSE_FIELDS, LONG_LINE, LONG_LINE))
# A 101 status line one byte over websockets' limit.
LONG_STATUS_LINE = Head(
    STATUS_LINE[:13] + b"x" * (handshakes.limits().line - 14) + b"\r\n", RESPONSE_FIELDS
)
# Another reason phrase; a status line websockets refuses and picows reads as 101.
OTHER_REASON = Head(b"HTTP/1.1 101 OK\r\n", RESPONSE_FIELDS)
LOWERCASE_PROTOCOL = Head(STATUS_LINE.lower(), RESPONSE_FIELDS)
# A Connection list websockets accepts and picows doesn't.
CONNECTION_LIST = Head(
    STATUS_LINE, (UPGRADE, b"Connection: keep-alive, Upgrade\r\n", RESPONSE_FIELDS[2])
)


@register_property("handshakes-to-server", "handshake", [TO_SERVER], REQUEST_KINDS)
def test_handshakes_to_server(harness: Harness, target: Target) -> None:
    """A raw client's generated request reaches each server as it reaches websockets'."""

    @given(head=handshakes.requests())
    @example(head=GARBAGE_AFTER_REQUEST)
    @example(head=GARBAGE_AFTER_REFUSED)
    def handshakes_to_server(tally: Tally, head: Head) -> None:
        reference = harness.reference(
            TO_SERVER, head, lambda: run(to_server, REFERENCE_TARGET, head)
        )
        actual = harness.run(run(to_server, target, head))
        tally.check(scenario(TO_SERVER, handshakes.request_kind(head)), reference, actual, head)

    harness.measure("handshakes-to-server", target, handshakes_to_server)


@register_property("handshakes-to-client", "handshake", [TO_CLIENT], RESPONSE_KINDS)
def test_handshakes_to_client(harness: Harness, target: Target) -> None:
    """A raw server's generated response reaches each client as it reaches websockets'."""

    @given(head=handshakes.responses())
    @example(head=TWO_UPGRADES)
    @example(head=TWO_UPGRADES_WRONG_ACCEPT)
    @example(head=TWO_ACCEPTS)
    @example(head=LF_STATUS_LINE)
    @example(head=CUT_HEAD)
    @example(head=LARGE_HEAD)
    @example(head=LONG_STATUS_LINE)
    @example(head=OTHER_REASON)
    @example(head=LOWERCASE_PROTOCOL)
    @example(head=CONNECTION_LIST)
    def handshakes_to_client(tally: Tally, head: Head) -> None:
        reference = harness.reference(
            TO_CLIENT, head, lambda: run(to_client, REFERENCE_TARGET, head)
        )
        actual = harness.run(run(to_client, target, head))
        tally.check(scenario(TO_CLIENT, handshakes.response_kind(head)), reference, actual, head)

    harness.measure("handshakes-to-client", target, handshakes_to_client)
