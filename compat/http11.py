"""The opening handshake's HTTP request and response, as in ``websockets.http11``.

The server reads requests itself (:class:`RequestReader`); picows reads the client's responses.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import warnings

from .datastructures import Headers
from .exceptions import HeaderLineTooLong, RequestLineTooLong, TooManyHeaders
from .version import version as compat_version

__all__ = ["SERVER", "USER_AGENT", "Request", "RequestReader", "Response"]

_DEFAULT_AGENT = f"Python/{sys.version_info.major}.{sys.version_info.minor} compat/{compat_version}"

#: Default ``User-Agent`` of client requests; websockets' environment variable overrides it.
USER_AGENT = os.environ.get("WEBSOCKETS_USER_AGENT", _DEFAULT_AGENT)

#: Default ``Server`` of server responses; websockets' environment variable overrides it.
SERVER = os.environ.get("WEBSOCKETS_SERVER", _DEFAULT_AGENT)


def _deprecated_exception(message: Request | Response, replacement: str) -> Exception | None:
    """Return ``message._exception`` with the warning websockets gives for this attribute."""
    warnings.warn(
        f"{type(message).__name__}.exception is deprecated; use {replacement} instead",
        DeprecationWarning,
        stacklevel=3,
    )
    return message._exception


@dataclasses.dataclass
class Request:
    """
    WebSocket handshake request.

    ``path`` includes the query string; ``method`` and ``protocol`` are always ``GET`` and
    ``HTTP/1.1`` for a handshake. Non-ASCII header values are carried as ISO-8859-1.
    """

    @property
    def exception(self) -> Exception | None:
        """Deprecated: the error that made the handshake fail."""
        return _deprecated_exception(self, "ServerProtocol.handshake_exc")

    path: str
    headers: Headers
    method: str = "GET"
    protocol: str = "HTTP/1.1"

    _exception: Exception | None = None

    def serialize(self) -> bytes:
        """Return the request as sent on the wire; the request line must be ASCII."""
        return f"{self.method} {self.path} {self.protocol}\r\n".encode("ascii") + (
            self.headers.serialize()
        )


@dataclasses.dataclass
class Response:
    """
    WebSocket handshake response, or the HTTP response that rejects a handshake.

    Non-ASCII reason phrases and header values are carried as ISO-8859-1.
    """

    @property
    def exception(self) -> Exception | None:
        """Deprecated: the error that made the handshake fail."""
        return _deprecated_exception(self, "ClientProtocol.handshake_exc")

    status_code: int
    reason_phrase: str
    headers: Headers
    body: bytes | bytearray = b""

    _exception: Exception | None = None

    def serialize(self) -> bytes:
        """Return the response as sent on the wire."""
        status_line = f"HTTP/1.1 {self.status_code} {self.reason_phrase}\r\n"
        return status_line.encode("iso-8859-1") + self.headers.serialize() + self.body


#: websockets' limits on a request head; the same environment variables override them.
MAX_LINE_LENGTH = int(os.environ.get("WEBSOCKETS_MAX_LINE_LENGTH", "8192"))
MAX_NUM_HEADERS = int(os.environ.get("WEBSOCKETS_MAX_NUM_HEADERS", "128"))

#: An HTTP token, and the bytes a header value or reason phrase may hold (ISO-8859-1 included).
TOKEN = re.compile(rb"[-!#$%&\'*+.^_`|~0-9a-zA-Z]+")
FIELD_VALUE = re.compile(rb"[\x09\x20-\x7e\x80-\xff]*")


def shown(value: bytes | bytearray) -> str:
    """Bytes shown in an error message."""
    return value.decode(errors="backslashreplace")


class RequestReader:
    """Reads one HTTP/1.1 request head as it arrives, line by line.

    Limits, accepted bytes and error messages are websockets': a line longer than
    ``MAX_LINE_LENGTH`` raises :exc:`RequestLineTooLong` or :exc:`HeaderLineTooLong`, more than
    ``MAX_NUM_HEADERS`` headers :exc:`TooManyHeaders`, and anything else malformed
    :exc:`EOFError`, :exc:`ValueError`, :exc:`UnicodeDecodeError` or :exc:`NotImplementedError`.
    Header values are decoded as ISO-8859-1. Bytes after the head stay in :attr:`buffer`.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.eof = False
        self._scanned = 0  # bytes of the buffer known to hold no line feed
        self._request_line: tuple[str, str, str] | None = None
        self._headers = Headers()
        self._count = 0

    def feed(self, data: bytes | bytearray) -> Request | None:
        """Add ``data``; return the request once its head is complete."""
        self.buffer += data
        if self._request_line is None:
            # Usually the whole head arrives at once: read its lines in one pass.
            end = self.buffer.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buffer[:end])
                if head.count(b"\n") == head.count(b"\r\n"):
                    return self._whole(head, end + 4)
        return self._parse()

    def _whole(self, head: bytes, size: int) -> Request:
        """Read a complete head of ``size`` bytes, exactly as line by line."""
        for line in head.split(b"\r\n"):
            if self._request_line is None:
                _check_length(len(line) + 2, RequestLineTooLong)
                self._request_line = _request_line(line)
            else:
                _check_length(len(line) + 2, HeaderLineTooLong)
                self._header(line)
        del self.buffer[:size]
        return self._request()

    def feed_eof(self) -> Request | None:
        """Note the end of the stream; raise :exc:`EOFError` if the head is incomplete."""
        self.eof = True
        return self._parse()

    def _line(self, too_long: type[Exception]) -> bytes | None:
        """The next CRLF-terminated line without its CRLF, or None until it has arrived."""
        end = self.buffer.find(b"\n", self._scanned) + 1
        if end == 0:
            self._scanned = size = len(self.buffer)
            _check_length(size, too_long)
            if self.eof:
                raise EOFError(f"stream ends after {size} bytes, before end of line")
            return None
        _check_length(end, too_long)
        line = bytes(self.buffer[:end])
        del self.buffer[:end]
        self._scanned = 0
        if not line.endswith(b"\r\n"):
            raise EOFError("line without CRLF")
        return line[:-2]

    def _parse(self) -> Request | None:
        while (line := self._next_line()) is not None:
            if self._request_line is None:
                self._request_line = _request_line(line)
            elif line == b"":
                return self._request()
            else:
                self._header(line)
        return None

    def _header(self, line: bytes) -> None:
        name, value = parse_header_line(line)
        self._headers.set_insecure(name, value)
        self._count += 1
        if self._count > MAX_NUM_HEADERS:
            raise TooManyHeaders(f"expected no more than {MAX_NUM_HEADERS} headers")

    def _next_line(self) -> bytes | None:
        """The next line of the head: the request line first, then header lines."""
        if self._request_line is None:
            too_long: type[Exception] = RequestLineTooLong
            part = "request line"
        else:
            too_long, part = HeaderLineTooLong, "headers"
        try:
            return self._line(too_long)
        except EOFError as exc:
            raise EOFError(f"connection closed while reading HTTP {part}") from exc

    def _request(self) -> Request:
        assert self._request_line is not None
        method, path, protocol = self._request_line
        headers = self._headers
        if "Transfer-Encoding" in headers:
            raise NotImplementedError("transfer codings aren't supported")
        if not set(headers.get_all("Content-Length")) <= {"0"}:
            raise ValueError("unsupported request body")
        return Request(path, headers, method, protocol)


def _check_length(size: int, too_long: type[Exception]) -> None:
    """Refuse a line of ``size`` bytes (or more, still unfinished) over the limit."""
    if size > MAX_LINE_LENGTH:
        raise too_long(f"read {size} bytes, expected no more than {MAX_LINE_LENGTH} bytes")


def _request_line(line: bytes) -> tuple[str, str, str]:
    """Method, path and protocol of a request line."""
    parts = line.split(b" ", 2)
    if len(parts) != 3:
        raise ValueError(f"invalid HTTP request line: {shown(line)}")
    method, path, protocol = parts
    if protocol not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise ValueError(f"unsupported protocol; expected HTTP/1.1 or HTTP/1.0: {shown(line)}")
    return method.decode("ascii"), path.decode("ascii"), protocol.decode("ascii")


def parse_header_line(line: bytes) -> tuple[str, str]:
    """Name and value of a header line; the value is decoded as ISO-8859-1."""
    name, colon, value = line.partition(b":")
    if not colon:
        raise ValueError(f"invalid HTTP header line: {shown(line)}")
    if not TOKEN.fullmatch(name):
        raise ValueError(f"invalid HTTP header name: {shown(name)}")
    value = value.strip(b" \t")
    if not FIELD_VALUE.fullmatch(value):
        raise ValueError(f"invalid HTTP header value: {shown(value)}")
    return name.decode("ascii"), value.decode("iso-8859-1")
