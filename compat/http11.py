"""The opening handshake's HTTP request and response, as in ``websockets.http11``.

picows reads and writes HTTP; these classes carry the messages to and from user code.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings

from .datastructures import Headers
from .version import version as compat_version

__all__ = ["SERVER", "USER_AGENT", "Request", "Response"]

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

    path: str
    headers: Headers
    method: str = "GET"
    protocol: str = "HTTP/1.1"

    _exception: Exception | None = None

    @property
    def exception(self) -> Exception | None:
        """Deprecated: the error that made the handshake fail."""
        return _deprecated_exception(self, "ServerProtocol.handshake_exc")

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

    status_code: int
    reason_phrase: str
    headers: Headers
    body: bytes | bytearray = b""

    _exception: Exception | None = None

    @property
    def exception(self) -> Exception | None:
        """Deprecated: the error that made the handshake fail."""
        return _deprecated_exception(self, "ClientProtocol.handshake_exc")

    def serialize(self) -> bytes:
        """Return the response as sent on the wire."""
        status_line = f"HTTP/1.1 {self.status_code} {self.reason_phrase}\r\n"
        return status_line.encode("iso-8859-1") + self.headers.serialize() + self.body
