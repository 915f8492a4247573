"""The HTTP response refusing a client's upgrade, read the way websockets reads it.

picows reports a refused response once it has the head, with the bytes that came after it, and
closes the connection. compat parses that head again with websockets' rules (ISO-8859-1 text,
its limits and errors) and reads the body as websockets does: ``Content-Length``, chunked or up to
the end of the stream, at most ``MAX_BODY_SIZE`` bytes. The rest of the body comes from a
duplicate of the socket, which stays open after picows closes its own.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket

from ..datastructures import Headers
from ..exceptions import HeaderLineTooLong, SecurityError, StatusLineTooLong, TooManyHeaders
from ..http11 import FIELD_VALUE, MAX_LINE_LENGTH, MAX_NUM_HEADERS, TOKEN, Response, shown

__all__ = ["read_response"]

# websockets' limit on a response body; the same environment variable overrides it.
MAX_BODY_SIZE = int(os.environ.get("WEBSOCKETS_MAX_BODY_SIZE", "1_048_576"))

RECV_SIZE = 65536

_token = TOKEN.fullmatch
_text = FIELD_VALUE.fullmatch
_digits = re.compile(rb"[0-9]{1,18}").fullmatch
_hex_digits = re.compile(rb"[0-9a-fA-F]{1,15}").fullmatch



class _Incoming:
    """The bytes of a response: those already received, then whatever ``sock`` still delivers.

    Without a socket, the received bytes are all there is.
    """

    def __init__(self, received: bytes, sock: socket.socket | None) -> None:
        self.buffer = bytearray(received)
        self.sock = sock

    async def _more(self) -> bool:
        """Append the next bytes from the socket; False at the end of the stream."""
        if self.sock is None:
            return False
        try:
            data = await asyncio.get_running_loop().sock_recv(self.sock, RECV_SIZE)
        except OSError:
            data = b""
        if not data:
            self.sock = None
            return False
        self.buffer += data
        return True

    def _take(self, size: int) -> bytearray:
        data = self.buffer[:size]
        del self.buffer[:size]
        return data

    async def line(self, too_long: type[Exception]) -> bytes:
        """The next line without its CRLF; ``too_long`` past ``MAX_LINE_LENGTH`` bytes."""
        while not (end := self.buffer.find(b"\n") + 1):
            size = len(self.buffer)
            if size > MAX_LINE_LENGTH:
                raise too_long(f"read {size} bytes, expected no more than {MAX_LINE_LENGTH} bytes")
            if not await self._more():
                raise EOFError(f"stream ends after {size} bytes, before end of line")
        if end > MAX_LINE_LENGTH:
            raise too_long(f"read {end} bytes, expected no more than {MAX_LINE_LENGTH} bytes")
        line = self._take(end)
        if not line.endswith(b"\r\n"):
            raise EOFError("line without CRLF")
        return bytes(line[:-2])

    async def exactly(self, size: int) -> bytearray:
        """The next ``size`` bytes."""
        while len(self.buffer) < size:
            if not await self._more():
                raise EOFError(f"stream ends after {len(self.buffer)} bytes, expected {size} bytes")
        return self._take(size)

    async def until_eof(self) -> bytearray:
        """Every byte up to the end of the stream, at most ``MAX_BODY_SIZE``."""
        while True:
            if len(self.buffer) > MAX_BODY_SIZE:
                raise SecurityError(
                    f"read {len(self.buffer)} bytes, expected no more than {MAX_BODY_SIZE} bytes"
                )
            if not await self._more():
                return self._take(len(self.buffer))


def _status(line: bytes) -> tuple[int, str]:
    """Status code and reason phrase of a status line."""
    parts = line.split(b" ", 2)
    if len(parts) != 3:
        raise ValueError(f"invalid HTTP status line: {shown(line)}")
    protocol, code, reason = parts
    if protocol != b"HTTP/1.1":
        raise ValueError(f"unsupported protocol; expected HTTP/1.1: {shown(line)}")
    if not _digits(code):
        raise ValueError(f"invalid status code; expected integer; got {shown(code)}")
    if not 100 <= int(code) < 600:
        raise ValueError(f"invalid status code; expected 100\u2013599; got {shown(code)}")
    if not _text(reason):
        raise ValueError(f"invalid HTTP reason phrase: {shown(reason)}")
    return int(code), reason.decode("iso-8859-1")


async def _headers(incoming: _Incoming) -> Headers:
    """Header lines up to an empty line; values are decoded as ISO-8859-1."""
    headers = Headers()
    for _ in range(MAX_NUM_HEADERS + 1):
        try:
            line = await incoming.line(HeaderLineTooLong)
        except EOFError as exc:
            raise EOFError("connection closed while reading HTTP headers") from exc
        if not line:
            return headers
        name, colon, value = line.partition(b":")
        if not colon:
            raise ValueError(f"invalid HTTP header line: {shown(line)}")
        if not _token(name):
            raise ValueError(f"invalid HTTP header name: {shown(name)}")
        value = value.strip(b" \t")
        if not _text(value):
            raise ValueError(f"invalid HTTP header value: {shown(value)}")
        headers.set_insecure(name.decode("ascii"), value.decode("iso-8859-1"))
    raise TooManyHeaders(f"expected no more than {MAX_NUM_HEADERS} headers")


async def _chunks(incoming: _Incoming) -> bytes:
    """A chunked body, decoded; the trailer is read and dropped."""
    body = bytearray()
    while True:
        size_field = (await incoming.line(SecurityError)).partition(b";")[0]
        if not _hex_digits(size_field):
            raise SecurityError(f"invalid chunk size: {shown(size_field)}")
        size = int(size_field, 16)
        if not size:
            break
        if len(body) + size > MAX_BODY_SIZE:
            raise SecurityError(f"chunk too large: {size} bytes after {len(body)} bytes")
        body += await incoming.exactly(size)
        if await incoming.exactly(2) != b"\r\n":
            raise ValueError("chunk without CRLF")
    await _headers(incoming)
    return bytes(body)


async def _body(status: int, headers: Headers, incoming: _Incoming) -> bytes | bytearray:
    """The body that follows the head of a response with this status and these headers."""
    if status < 200 or status in (204, 304):
        return b""
    coding = headers.get("Transfer-Encoding")
    if coding is not None:
        if coding != "chunked":
            raise NotImplementedError(f"transfer coding {coding} isn't supported")
        return await _chunks(incoming)
    length = headers.get("Content-Length")
    if length is None:
        return await incoming.until_eof()
    if not _digits(length.encode("iso-8859-1")):
        raise SecurityError(f"invalid content length: {length}")
    if int(length) > MAX_BODY_SIZE:
        raise SecurityError(f"body too large: {int(length)} bytes")
    return await incoming.exactly(int(length))


async def read_response(received: bytes, sock: socket.socket | None) -> Response:
    """Parse the response that starts ``received`` and continues on ``sock``.

    Without ``sock`` (TLS: the rest of the stream is encrypted), a body cut short at the end of
    ``received`` is returned as received. Malformed responses raise what websockets' parser
    raises: :exc:`EOFError`, :exc:`ValueError`, :exc:`LookupError`, :exc:`NotImplementedError`
    or :exc:`~compat.exceptions.SecurityError`.
    """
    incoming = _Incoming(received, sock)
    try:
        status_line = await incoming.line(StatusLineTooLong)
    except EOFError as exc:
        raise EOFError("connection closed while reading HTTP status line") from exc
    status, reason = _status(status_line)
    headers = await _headers(incoming)
    after_head = bytes(incoming.buffer) if sock is None else b""
    try:
        body = await _body(status, headers, incoming)
    except EOFError:
        if sock is not None:
            raise
        body = after_head
    return Response(status, reason, headers, body)
