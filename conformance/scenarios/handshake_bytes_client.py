"""connect(): the exact bytes of the opening handshake, against a raw server.

Request header text in each byte range, response header values and status lines in each byte
range, and bodies of refused responses in each framing and size, up to websockets' limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .. import trace
from ..raw import RawConnection, RawServer, Request, accept_key
from ..scenario import Pair, family, scenario
from .tls import server_context, trusting_context

# websockets' default limit on the body of a response.
MAX_BODY = 2**20
# Every byte value, in order, repeated: a body whose corruption or truncation shows.
PATTERN = bytes(range(256))

CONTROLS = [*range(0x00, 0x20), 0x7F]
LATIN1 = bytes(range(0x80, 0x100))
PRINTABLE = bytes(range(0x21, 0x7F))
SWITCHING = b"HTTP/1.1 101 Switching Protocols"

Respond = Callable[[Request], bytes]


def body_of(size: int) -> bytes:
    """``size`` bytes of :data:`PATTERN`."""
    return (PATTERN * (size // len(PATTERN) + 1))[:size]


def upgrade(status_line: bytes = SWITCHING, extra: bytes = b"") -> Respond:
    """A 101 response accepting the request, with ``extra`` header lines (CRLF-terminated)."""

    def respond(request: Request) -> bytes:
        key = accept_key(request.header("Sec-WebSocket-Key") or "").encode()
        return (
            status_line + b"\r\n"
            b"Upgrade: websocket\r\n"
            b"Connection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + key + b"\r\n" + extra + b"\r\n"
        )

    return respond


def refuse(
    head: bytes = b"HTTP/1.1 403 Forbidden\r\n", extra: bytes = b"", rest: bytes = b""
) -> Respond:
    """A response refusing the upgrade: ``head``, ``extra`` header lines, an empty line, ``rest``.

    The raw server closes the connection once it sent it (and its script, if any, returned).
    """
    return lambda request: head + extra + b"\r\n" + rest


def view_body(body: bytes | bytearray, expected: bytes | None) -> Any:
    """Type and length of a response body, and whether it is ``expected`` (else the bytes)."""
    view: dict[str, Any] = {"type": type(body).__name__, "length": len(body)}
    if expected is None:
        view["bytes"] = repr(bytes(body))
    else:
        view["intact"] = bytes(body) == expected
    return view


def failure(exc: BaseException, expected: bytes | None = None) -> Any:
    """An exception with its cause and, for a refused handshake, the response as received."""
    data = trace.exception(exc)
    if exc.__cause__ is not None:
        data["cause"] = trace.exception(exc.__cause__)
    response = getattr(exc, "response", None)
    if response is not None and hasattr(response, "reason_phrase"):
        data["response"] = {
            "reason": response.reason_phrase,
            "headers": [[name, value] for name, value in response.headers.raw_items()],
            "body": view_body(response.body, expected),
        }
    return data


def received(ws: Any) -> Any:
    """What the client exposes of a 101 response: the reason and the X-Name values."""
    return {"reason": ws.response.reason_phrase, "x-name": ws.response.headers.get_all("X-Name")}


async def attempt(
    pair: Pair,
    url: str,
    probe: Callable[[Any], Any] = received,
    expected: bytes | None = None,
    **kwargs: Any,
) -> Any:
    """Connect and close: ``probe(ws)`` once open, or :func:`failure` data."""

    async def opening() -> Any:
        async with pair.connect(url, **kwargs) as ws:
            return trace.data(probe(ws))

    try:
        async with asyncio.timeout(pair.timeout):
            return {"result": await opening()}
    except Exception as exc:
        return failure(exc, expected)


async def against(pair: Pair, respond: Respond, **kwargs: Any) -> Any:
    """The outcome of connecting to a raw server that answers with ``respond``."""
    async with pair.serve_raw(None, respond) as server:
        return await attempt(pair, server.url, **kwargs)


# Request headers: what the raw server reads, as bytes.


def sent(server: RawServer, name: str) -> str | None:
    """The bytes of header ``name`` the raw server read (it decodes them as ISO-8859-1)."""
    if not server.requests:
        return None
    value = server.requests[0].header(name)
    return None if value is None else repr(value.encode("latin-1"))


async def sending(pair: Pair, name: str, **kwargs: Any) -> Any:
    """Connect with ``kwargs``; the outcome and the bytes of header ``name`` on the wire."""

    async def closing(conn: RawConnection) -> None:
        await conn.close_handshake()

    async with pair.serve_raw(closing, upgrade()) as server:
        outcome = await attempt(pair, server.url, lambda ws: trace.state(ws), **kwargs)
    return {"outcome": outcome, "sent": sent(server, name)}


REQUEST_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-bytes-client.request-printable-value", "a header value with every printable byte",
     {"name": "X-Name", "additional_headers": {"X-Name": PRINTABLE.decode()}}),
    ("handshake-bytes-client.request-tab-value", "a header value with a tab inside",
     {"name": "X-Name", "additional_headers": {"X-Name": "a\tb"}}),
    ("handshake-bytes-client.request-token-name", "a header name with every token character",
     {"name": "X-!#$%&'*+.^_`|~09az",
      "additional_headers": [("X-!#$%&'*+.^_`|~09az", "v")]}),
    ("handshake-bytes-client.request-ascii-origin", "an ASCII origin",
     {"name": "Origin", "origin": "https://example.com:8443"}),
]


@family("handshake", REQUEST_CASES, sides="client")
async def request_header(pair: Pair, name: str, **kwargs: Any) -> Any:
    """The client sends an ASCII header; the raw server reads its exact bytes."""
    return await sending(pair, name, **kwargs)


REJECTED_REQUEST_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-bytes-client.request-control-values",
     "header values with each control byte are refused before sending",
     {"values": [f"a{chr(byte)}b" for byte in CONTROLS]}),
    ("handshake-bytes-client.request-beyond-latin1-values",
     "header values with characters beyond ISO-8859-1 are refused before sending",
     {"values": ["€", "caf\u0100", "\U0001f600", "é€"]}),
]


@family("handshake", REJECTED_REQUEST_CASES, sides="client")
async def rejected_request_header(pair: Pair, values: list[str]) -> Any:
    """Each value in additional_headers, one connection each: the outcome and the bytes sent."""
    return [
        await sending(pair, "X-Name", additional_headers={"X-Name": value}) for value in values
    ]


NON_ASCII_REQUEST_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-bytes-client.request-latin1-value",
     "a header value with every byte from 0x80 to 0xFF goes out as ISO-8859-1",
     {"name": "X-Name", "additional_headers": {"X-Name": "a" + LATIN1.decode("latin-1")}}),
    ("handshake-bytes-client.request-latin1-word", "X-Name: café goes out as ISO-8859-1",
     {"name": "X-Name", "additional_headers": {"X-Name": "café"}}),
    ("handshake-bytes-client.request-latin1-name", "a header name with é",
     {"name": "X-Café", "additional_headers": [("X-Café", "v")]}),
    ("handshake-bytes-client.request-beyond-latin1-name", "a header name with €",
     {"name": "X-€", "additional_headers": [("X-€", "v")]}),
    ("handshake-bytes-client.request-latin1-origin", "an origin with é",
     {"name": "Origin", "origin": "https://café.example"}),
    ("handshake-bytes-client.request-latin1-user-agent", "a user_agent_header with ë",
     {"name": "User-Agent", "user_agent_header": "tëster/1.0"}),
]


@family("handshake", NON_ASCII_REQUEST_CASES, seed="non-ascii-request-headers", sides="client")
async def non_ascii_request_header(pair: Pair, name: str, **kwargs: Any) -> Any:
    """The client sends non-ASCII header text; the raw server reads its exact bytes."""
    return await sending(pair, name, **kwargs)


# Response headers.


def header_cases(status: int) -> list[tuple[str, str, dict[str, Any]]]:
    """X-Name values in each byte range, in a 101 response or in a refusal with this status."""
    values = {
        "printable": PRINTABLE,
        "tab": b"a\tb",
        "spaces-around": b" \t a b \t ",
        "latin1": b"a" + LATIN1,
        "latin1-word": b"caf\xe9",
        "utf8-word": b"caf\xc3\xa9",
    }
    kind = "upgrade" if status == 101 else "refusal"
    cases = [
        (f"handshake-bytes-client.{kind}-header-{name}",
         f"an X-Name header with {name} bytes in a {status} response",
         {"status": status, "values": [value]})
        for name, value in values.items()
    ]
    cases.append(
        (f"handshake-bytes-client.{kind}-header-controls",
         f"X-Name headers with each control byte in a {status} response",
         {"status": status, "values": [b"a%cb" % byte for byte in CONTROLS]})
    )
    return cases


@family("connect", [*header_cases(101), *header_cases(403)], sides="client")
async def response_header(pair: Pair, status: int, values: list[bytes]) -> Any:
    """The raw server sends each X-Name value, one connection each; the client's outcome."""
    outcomes = []
    for value in values:
        extra = b"X-Name: " + value + b"\r\n"
        respond = upgrade(extra=extra) if status == 101 else refuse(extra=extra)
        outcomes.append(await against(pair, respond))
    return outcomes


UPGRADE_HEADER_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"handshake-bytes-client.upgrade-latin1-{name.lower()}",
     f"{name}: {value!r} in a 101 response", {"name": name, "value": value})
    for name, value in [
        ("Upgrade", b"websocket\xe9"),
        ("Connection", b"Upgrad\xe9"),
        ("Sec-WebSocket-Accept", b"d3Jvbmc=\xe9"),
        ("Sec-WebSocket-Protocol", b"chat\xe9"),
        ("Sec-WebSocket-Extensions", b"permessage-deflate; x=\xe9"),
        ("Set-Cookie", b"name=caf\xe9"),
    ]
] + [
    ("handshake-bytes-client.upgrade-connection-list", "Connection: keep-alive, Upgrade",
     {"name": "Connection", "value": b"keep-alive, Upgrade"}),
    ("handshake-bytes-client.upgrade-both-wrong", "Upgrade: h2c and Connection: close",
     {"name": "Connection", "value": b"close", "upgrade": b"h2c"}),
    ("handshake-bytes-client.upgrade-not-tokens", "Upgrade: web socket",
     {"name": "Upgrade", "value": b"web socket"}),
]


def upgrade_with(name: str, value: bytes, upgrade: bytes = b"websocket") -> Respond:
    """A 101 response with header ``name`` set to ``value`` and Upgrade set to ``upgrade``."""

    def respond(request: Request) -> bytes:
        key = accept_key(request.header("Sec-WebSocket-Key") or "").encode()
        headers = {b"Upgrade": upgrade, b"Connection": b"Upgrade", b"Sec-WebSocket-Accept": key}
        headers[name.encode()] = value
        lines = b"".join(b"%b: %b\r\n" % item for item in headers.items())
        return SWITCHING + b"\r\n" + lines + b"\r\n"

    return respond


@family("connect", UPGRADE_HEADER_CASES, sides="client")
async def upgrade_header(pair: Pair, **kwargs: Any) -> Any:
    """A 101 response with an unusual header the client checks or exposes."""
    headers = ["Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Set-Cookie"]
    return await against(
        pair,
        upgrade_with(**kwargs),
        probe=lambda ws: {name: ws.response.headers.get_all(name) for name in headers},
        subprotocols=["chat"],
    )


# Status lines.

REASONS = {
    "custom": [b"Custom Words"],
    "empty": [b""],
    "utf8": [b"caf\xc3\xa9"],
    "latin1": [LATIN1],
    "controls": [b"a%cb" % byte for byte in CONTROLS if byte != 0x0A],
}


def status_line_cases(status: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Reason phrases in each byte range after this status code."""
    return [
        (f"handshake-bytes-client.reason-{status}-{name}",
         f"{name} reason phrases after HTTP {status}",
         {"lines": [b"HTTP/1.1 %d %b" % (status, reason) for reason in reasons]})
        for name, reasons in REASONS.items()
    ]


STATUS_LINE_CASES = [
    *status_line_cases(101),
    *status_line_cases(403),
    ("handshake-bytes-client.status-codes-known", "refusals with status codes Python names",
     {"lines": [b"HTTP/1.1 %d Status" % code for code in (100, 200, 302, 418, 451, 511)]}),
    ("handshake-bytes-client.status-codes-unknown",
     "refusals with status codes Python doesn't name",
     {"lines": [b"HTTP/1.1 %d Status" % code for code in (299, 420, 499, 520, 599)]}),
    ("handshake-bytes-client.status-line-malformed", "status lines websockets refuses",
     {"lines": [b"HTTP/1.1 403", b"http/1.1 403 Forbidden", b"HTTP/1.1 +403 Forbidden",
                b"HTTP/1.1 0403 Forbidden", b"HTTP/1.1 600 Status", b"HTTP/1.0 403 Forbidden",
                b"HTTP/1.1 403 " + b"x" * 8200]}),
]


@family("connect", STATUS_LINE_CASES, sides="client")
async def status_line(pair: Pair, lines: list[bytes]) -> Any:
    """The raw server answers with each status line, one connection each; the outcome."""
    outcomes = []
    for line in lines:
        if line.startswith(b"HTTP/1.1 101 "):
            respond = upgrade(status_line=line)
        else:
            respond = refuse(head=line + b"\r\n", extra=b"Content-Length: 4\r\n", rest=b"nope")
        outcomes.append(await against(pair, respond))
    return outcomes


def long_lines(count: int, size: int) -> list[bytes]:
    """``count`` header lines of ``size`` bytes each, CRLF excluded."""
    names = [b"X-Long-%d: " % index for index in range(count)]
    return [name + b"x" * (size - len(name)) for name in names]


HEAD_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"handshake-bytes-client.head-{name}-{status}", f"{title} in a {status} response",
     {"status": status, "lines": lines})
    for name, title, lines in [
        ("12k", "a 12 KiB head of 6000-byte lines", long_lines(2, 6000)),
        ("20k", "a 20 KiB head of 7000-byte lines", long_lines(3, 7000)),
        ("line-8190", "a header line of 8190 bytes", long_lines(1, 8190)),
        ("line-8191", "a header line of 8191 bytes", long_lines(1, 8191)),
        ("128-headers", "128 headers", [b"X-%d: v" % index for index in range(128)]),
        ("129-headers", "129 headers", [b"X-%d: v" % index for index in range(129)]),
    ]
    for status in (101, 403)
]


@family("connect", HEAD_CASES, sides="client")
async def response_head(pair: Pair, status: int, lines: list[bytes]) -> Any:
    """The raw server answers with a head of this size; the client's outcome."""
    extra = b"".join(line + b"\r\n" for line in lines)
    respond = upgrade(extra=extra) if status == 101 else refuse(extra=extra)
    return await against(pair, respond)


# Bodies of refusals.


def framed(body: bytes, framing: str) -> tuple[bytes, bytes]:
    """Header lines and bytes after the head that carry ``body`` with this framing."""
    if framing == "length":
        return b"Content-Length: %d\r\n" % len(body), body
    if framing == "chunked":
        chunks = [body[start : start + 4000] for start in range(0, len(body), 4000)]
        encoded = b"".join(b"%x\r\n%b\r\n" % (len(chunk), chunk) for chunk in chunks)
        return b"Transfer-Encoding: chunked\r\n", encoded + b"0\r\n\r\n"
    return b"", body


BODY_SIZES = [0, 1, 1700, 5000, 100_000, MAX_BODY, MAX_BODY + 1]

BODY_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"handshake-bytes-client.body-{framing}-{size}",
     f"a {size}-byte body, {description}", {"size": size, "framing": framing})
    for framing, description in [
        ("length", "with Content-Length"),
        ("chunked", "chunked in 4000-byte chunks"),
        ("eof", "up to the end of the connection"),
    ]
    for size in BODY_SIZES
]


@family("connect", BODY_CASES, sides="client")
async def refusal_body(pair: Pair, size: int, framing: str) -> Any:
    """The raw server refuses with a body; the client's InvalidStatus.response carries it."""
    body = body_of(size)
    extra, rest = framed(body, framing)
    return await against(pair, refuse(extra=extra, rest=rest), expected=body)


MALFORMED_BODY_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("handshake-bytes-client.body-length-invalid", "Content-Length: 12a",
     {"extra": b"Content-Length: 12a\r\n", "rest": b"x" * 12}),
    ("handshake-bytes-client.body-length-twice", "two Content-Length headers",
     {"extra": b"Content-Length: 4\r\nContent-Length: 4\r\n", "rest": b"nope"}),
    ("handshake-bytes-client.body-length-short", "Content-Length: 100, then 10 bytes and EOF",
     {"extra": b"Content-Length: 100\r\n", "rest": b"x" * 10}),
    ("handshake-bytes-client.body-length-leading-zeros", "Content-Length: 0004",
     {"extra": b"Content-Length: 0004\r\n", "rest": b"nope"}),
    ("handshake-bytes-client.body-length-extra-bytes", "Content-Length: 4, then more bytes",
     {"extra": b"Content-Length: 4\r\n", "rest": b"nope, and more"}),
    ("handshake-bytes-client.body-transfer-encoding-gzip", "Transfer-Encoding: gzip",
     {"extra": b"Transfer-Encoding: gzip\r\n", "rest": b"nope"}),
    ("handshake-bytes-client.body-transfer-encoding-case", "Transfer-Encoding: Chunked",
     {"extra": b"Transfer-Encoding: Chunked\r\n", "rest": b"4\r\nnope\r\n0\r\n\r\n"}),
    ("handshake-bytes-client.body-chunked-and-length", "chunked and Content-Length",
     {"extra": b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
      "rest": b"4\r\nnope\r\n0\r\n\r\n"}),
    ("handshake-bytes-client.body-chunk-extension", "chunk sizes with extensions",
     {"extra": b"Transfer-Encoding: chunked\r\n",
      "rest": b"2;name=value\r\nno\r\n2;x\r\npe\r\n0;end\r\n\r\n"}),
    ("handshake-bytes-client.body-chunked-trailer", "a chunked body with a trailer",
     {"extra": b"Transfer-Encoding: chunked\r\n",
      "rest": b"4\r\nnope\r\n0\r\nX-Trailer: caf\xe9\r\n\r\n"}),
    ("handshake-bytes-client.body-chunked-invalid-trailer", "a chunked body, a malformed trailer",
     {"extra": b"Transfer-Encoding: chunked\r\n",
      "rest": b"4\r\nnope\r\n0\r\nnot a header\r\n\r\n"}),
    ("handshake-bytes-client.body-chunk-size-invalid", "a chunk size that isn't hexadecimal",
     {"extra": b"Transfer-Encoding: chunked\r\n", "rest": b"zz\r\nnope\r\n0\r\n\r\n"}),
    ("handshake-bytes-client.body-chunk-size-empty", "an empty chunk size line",
     {"extra": b"Transfer-Encoding: chunked\r\n", "rest": b"\r\nnope\r\n0\r\n\r\n"}),
    ("handshake-bytes-client.body-chunk-without-crlf", "a chunk not followed by CRLF",
     {"extra": b"Transfer-Encoding: chunked\r\n", "rest": b"4\r\nnopeXX0\r\n\r\n"}),
    ("handshake-bytes-client.body-chunked-truncated", "a chunked body cut by EOF",
     {"extra": b"Transfer-Encoding: chunked\r\n", "rest": b"4\r\nno"}),
    ("handshake-bytes-client.body-chunked-no-end", "a chunked body without its last chunk",
     {"extra": b"Transfer-Encoding: chunked\r\n", "rest": b"4\r\nnope\r\n"}),
    ("handshake-bytes-client.body-chunk-size-line-too-long", "a chunk size line over 8 KiB",
     {"extra": b"Transfer-Encoding: chunked\r\n", "rest": b"4;" + b"x" * 9000 + b"\r\nnope"}),
    *(
        (f"handshake-bytes-client.body-after-{status}", f"bytes after the head of a {status}",
         {"head": b"HTTP/1.1 %d Status\r\n" % status, "extra": b"Content-Length: 4\r\n",
          "rest": b"nope"})
        for status in (100, 204, 304)
    ),
]


@family("connect", MALFORMED_BODY_CASES, sides="client")
async def refusal_framing(
    pair: Pair, extra: bytes, rest: bytes, head: bytes = b"HTTP/1.1 403 Forbidden\r\n"
) -> Any:
    """The raw server refuses with an unusual or malformed body; the client's outcome."""
    return await against(pair, refuse(head, extra, rest))


TLS_BODY_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"handshake-bytes-client.tls-body-{size}", f"a {size}-byte body over TLS",
     {"size": size}) for size in (100, 5000, 100_000)
]


@family("connect", TLS_BODY_CASES, sides="client")
async def tls_refusal_body(pair: Pair, size: int) -> Any:
    """A raw wss:// server refuses with a Content-Length body; the client's InvalidStatus."""
    body = body_of(size)
    respond = refuse(extra=b"Content-Length: %d\r\n" % size, rest=body)
    async with RawServer(None, respond, pair.timeout, ssl=server_context()) as server:
        outcome = await attempt(pair, server.url, expected=body, ssl=trusting_context())
    return {"outcome": outcome, "server_errors": server.errors}


@scenario("connect", sides="client")
async def refusal_body_slow(pair: Pair) -> Any:
    """A body that arrives in pieces, after the head, until Content-Length is reached."""
    body = body_of(5000)

    async def script(conn: RawConnection) -> None:
        for start in range(0, len(body), 1000):
            await asyncio.sleep(0.01)
            await conn.send(body[start : start + 1000])

    head = refuse(extra=b"Content-Length: %d\r\n" % len(body))
    async with pair.serve_raw(script, head) as server:
        return await attempt(pair, server.url, expected=body)


@scenario("connect", sides="client")
async def refusal_body_stalled(pair: Pair) -> Any:
    """A body that stops short of Content-Length while the connection stays open: open_timeout."""

    async def script(conn: RawConnection) -> None:
        await conn.send(b"x" * 1000)
        await conn.read_until_eof()

    head = refuse(extra=b"Content-Length: 5000\r\n")
    async with pair.serve_raw(script, head) as server:
        return await attempt(pair, server.url, open_timeout=0.3)
