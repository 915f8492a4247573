"""Request bytes a client can send to a server: request lines, header bytes, bodies, timing.

A raw client sends exact bytes; the trace holds the server's response, whether it closed the
connection, what the handler saw, and what the server logged.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..scenario import Pair, family
from ._shapes import Recorder, hold
from .tls import server_context

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
# An answer comes at once; a client that stalls is closed after this.
OPEN_TIMEOUT = 0.6
UPGRADE = (
    b"Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n"
)


def request(line: bytes = b"GET / HTTP/1.1", extra: bytes = b"", end: bytes = b"\r\n") -> bytes:
    """An upgrade request with ``extra`` header lines, ended by ``end``."""
    return line + b"\r\n" + UPGRADE + extra + end


def header_bytes_cases() -> list[tuple[str, str, dict[str, Any]]]:
    """A header value holding each range of bytes, one case per range."""
    ranges = {
        "controls": bytes(range(0x01, 0x09)) + bytes(range(0x0B, 0x0D)) + bytes(range(0x0E, 0x20)),
        "tab": b"a\tb",
        "nul": b"a\x00b",
        "del": b"a\x7fb",
        "latin-1": b"caf\xe9 na\xefve \xa9\xff",
        "utf-8": "café €".encode(),
        "high": bytes(range(0x80, 0x100)),
    }
    return [
        (f"handshake-bytes.header-value-{name}", f"a header value with {name} bytes",
         {"data": request(extra=b"X-Value: " + value + b"\r\n")})
        for name, value in ranges.items()
    ]


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-bytes.not-http", "a request line that isn't HTTP",
     {"data": b"HELO relay.invalid\r\n"}),
    ("handshake-bytes.eof-before-request", "the client closes before sending anything",
     {"data": b"", "eof": True}),
    ("handshake-bytes.eof-in-headers", "the client closes in the middle of the headers",
     {"data": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", "eof": True}),
    ("handshake-bytes.silent", "the client says nothing until open_timeout",
     {"data": b""}),
    ("handshake-bytes.partial-line", "an unfinished request line until open_timeout",
     {"data": b"GET / HT"}),
    ("handshake-bytes.post", "POST", {"data": request(b"POST / HTTP/1.1")}),
    ("handshake-bytes.lowercase-get", "a lowercase method", {"data": request(b"get / HTTP/1.1")}),
    ("handshake-bytes.http10", "HTTP/1.0", {"data": request(b"GET / HTTP/1.0")}),
    ("handshake-bytes.http2", "HTTP/2.0", {"data": request(b"GET / HTTP/2.0")}),
    ("handshake-bytes.two-words", "a request line of two words", {"data": request(b"GET /")}),
    ("handshake-bytes.extra-spaces", "a path with a space",
     {"data": request(b"GET /a b HTTP/1.1")}),
    ("handshake-bytes.non-ascii-path", "a path with a byte over 0x7f",
     {"data": request(b"GET /caf\xe9 HTTP/1.1")}),
    ("handshake-bytes.empty-path", "an empty request target",
     {"data": request(b"GET  HTTP/1.1")}),
    ("handshake-bytes.absolute-path", "an absolute-form request target",
     {"data": request(b"GET http://127.0.0.1/x HTTP/1.1")}),
    ("handshake-bytes.lf-only", "lines ended by LF only",
     {"data": request().replace(b"\r\n", b"\n")}),
    ("handshake-bytes.folded-header", "an obsolete folded header line",
     {"data": request(extra=b"X-Folded: a\r\n b\r\n")}),
    ("handshake-bytes.no-colon", "a header line without a colon",
     {"data": request(extra=b"X-Broken\r\n")}),
    ("handshake-bytes.space-before-colon", "a space between name and colon",
     {"data": request(extra=b"X-Space : 1\r\n")}),
    ("handshake-bytes.bad-name", "a header name with a non-token character",
     {"data": request(extra=b"X(Bad): 1\r\n")}),
    ("handshake-bytes.empty-value", "an empty header value",
     {"data": request(extra=b"X-Empty:\r\n")}),
    ("handshake-bytes.repeated-header", "a repeated header",
     {"data": request(extra=b"X-Value: 1\r\nX-Value: 2\r\n")}),
    ("handshake-bytes.repeated-key", "two Sec-WebSocket-Key headers",
     {"data": request(extra=b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\n")}),
    ("handshake-bytes.connection-list", "Connection: keep-alive, Upgrade",
     {"data": request(extra=b"Connection: keep-alive\r\n")}),
    ("handshake-bytes.content-length-zero", "Content-Length: 0",
     {"data": request(extra=b"Content-Length: 0\r\n")}),
    ("handshake-bytes.content-length-body", "Content-Length: 5 and a body",
     {"data": request(extra=b"Content-Length: 5\r\n") + b"hello"}),
    ("handshake-bytes.chunked", "Transfer-Encoding: chunked",
     {"data": request(extra=b"Transfer-Encoding: chunked\r\n") + b"0\r\n\r\n"}),
    ("handshake-bytes.long-line", "a header line over 8192 bytes",
     {"data": request(extra=b"X-Long: " + b"a" * 9000 + b"\r\n")}),
    ("handshake-bytes.long-request-line", "a request line over 8192 bytes",
     {"data": request(b"GET /" + b"a" * 9000 + b" HTTP/1.1")}),
    ("handshake-bytes.many-headers", "129 headers",
     {"data": request(extra=b"".join(b"X-%d: 1\r\n" % index for index in range(124)))}),
    ("handshake-bytes.max-headers", "128 headers",
     {"data": request(extra=b"".join(b"X-%d: 1\r\n" % index for index in range(123)))}),
    ("handshake-bytes.frame-with-request", "a text frame in the same write as the request",
     {"data": request() + b"\x81\x82\x37\xfa\x21\x3d\x5f\x93", "read_message": True}),
    *header_bytes_cases(),
]


@family("handshake", CASES, sides="server")
async def request_bytes(
    pair: Pair, data: bytes, eof: bool = False, read_message: bool = False
) -> Any:
    """The server's answer to ``data`` (then EOF if ``eof``), and what the handler saw."""

    async def body(ws: Any) -> Any:
        seen: dict[str, Any] = {
            "path": ws.request.path,
            "headers": list(ws.request.headers.raw_items())[5:],
        }
        if read_message:
            seen["message"] = await pair.catch(ws.recv())
        return seen

    recorder = Recorder(body)
    with pair.watching_logs() as logs:
        async with pair.serving(recorder, open_timeout=OPEN_TIMEOUT) as server:
            async with pair.connect_raw(pair.url(server), handshake=False) as raw:
                started = time.monotonic()
                await raw.send(data)
                if eof:
                    raw.writer.write_eof()
                await raw.read_response()
                response = raw.handshake_trace(KEY)
                if response["status"] == 101:
                    await raw.send_close(1000)
                _, ended = await raw.read_until_eof(timeout=2)
                elapsed = time.monotonic() - started
            handled = await recorder.wait(pair) if recorder.done.is_set() else None
    return {
        "response": response,
        "eof": ended,
        "closed": "at once" if elapsed < OPEN_TIMEOUT / 2 else "after open_timeout"
        if elapsed < OPEN_TIMEOUT * 3 else "late",
        "handler": handled,
        "log": logs.trace("websockets.server"),
    }


TLS_CASES = [
    ("handshake-bytes.tls-never-starts", "a TCP client that never starts TLS",
     {"data": b""}),
    ("handshake-bytes.tls-plain-http", "a plain HTTP request to a TLS server",
     {"data": request()}),
]


@family("handshake", TLS_CASES, sides="server")
async def tls_handshake_bound(pair: Pair, data: bytes) -> Any:
    """open_timeout bounds the TLS handshake too: the server closes a stalled client."""
    async with (
        pair.serving(hold, ssl=server_context(), open_timeout=0.3) as server,
        pair.connect_raw(pair.url(server), handshake=False) as raw,
    ):
        started = time.monotonic()
        await raw.send(data)
        _, ended = await raw.read_until_eof(timeout=3)
        elapsed = time.monotonic() - started
    return {"eof": ended, "closed_within_a_second": ended and elapsed < 1.0}


@family("handshake", [("handshake-bytes.frames-during-slow-hook",
                       "200 KiB of frames sent while an asynchronous hook runs", {})],
        sides="server")
async def frames_during_slow_hook(pair: Pair) -> Any:
    """Messages sent right after the request, before the hook answers, all arrive in order."""
    frame = b"\x82\xfe\x10\x00\x37\xfa\x21\x3d" + bytes(4096)  # a masked 4 KiB binary frame

    async def slow_hook(connection: Any, request: Any) -> None:
        await asyncio.sleep(0.1)

    async def body(ws: Any) -> Any:
        sizes = [len(await ws.recv()) for _ in range(50)]
        return {"messages": len(sizes), "sizes": sorted(set(sizes))}

    recorder = Recorder(body)
    async with (
        pair.serving(recorder, process_request=slow_hook) as server,
        pair.connect_raw(pair.url(server), handshake=False) as raw,
    ):
        await raw.send(request() + frame * 50)
        await raw.read_response()
        response = raw.handshake_trace(KEY)
        handled = await recorder.wait(pair)
    return {"response": response, "handler": handled}
