"""Exceptions raised by compat: the hierarchy of ``websockets.exceptions``, plus one of our own.

* :exc:`WebSocketException`
    * :exc:`ConnectionClosed`
        * :exc:`ConnectionClosedOK`
        * :exc:`ConnectionClosedError`
    * :exc:`InvalidURI`
    * :exc:`InvalidProxy`
    * :exc:`InvalidHandshake`
        * :exc:`SecurityError`
            * :exc:`RequestLineTooLong`
            * :exc:`StatusLineTooLong`
            * :exc:`HeaderLineTooLong`
            * :exc:`TooManyHeaders`
        * :exc:`ProxyError`
            * :exc:`InvalidProxyMessage`
            * :exc:`InvalidProxyStatus`
        * :exc:`InvalidMessage`
        * :exc:`InvalidMethod`
        * :exc:`InvalidProtocol`
        * :exc:`InvalidStatus`
        * :exc:`InvalidHeader`
            * :exc:`InvalidHeaderFormat`
            * :exc:`InvalidHeaderValue`
            * :exc:`InvalidOrigin`
            * :exc:`InvalidUpgrade`
        * :exc:`NegotiationError`
            * :exc:`DuplicateParameter`
            * :exc:`InvalidParameterName`
            * :exc:`InvalidParameterValue`
    * :exc:`ProtocolError`
    * :exc:`PayloadTooBig`
    * :exc:`TooManyFragments`
    * :exc:`InvalidState`
    * :exc:`ConcurrencyError`

:exc:`UnsupportedFeature` (a :exc:`NotImplementedError`) marks websockets features that compat
doesn't provide; it is raised where the feature is requested.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .frames import Close
    from .http11 import Response

__all__ = [
    "ConcurrencyError",
    "ConnectionClosed",
    "ConnectionClosedError",
    "ConnectionClosedOK",
    "DuplicateParameter",
    "HeaderLineTooLong",
    "InvalidHandshake",
    "InvalidHeader",
    "InvalidHeaderFormat",
    "InvalidHeaderValue",
    "InvalidMessage",
    "InvalidMethod",
    "InvalidOrigin",
    "InvalidParameterName",
    "InvalidParameterValue",
    "InvalidProtocol",
    "InvalidProxy",
    "InvalidProxyMessage",
    "InvalidProxyStatus",
    "InvalidState",
    "InvalidStatus",
    "InvalidURI",
    "InvalidUpgrade",
    "NegotiationError",
    "PayloadTooBig",
    "ProtocolError",
    "ProxyError",
    "RequestLineTooLong",
    "SecurityError",
    "StatusLineTooLong",
    "TooManyFragments",
    "TooManyHeaders",
    "UnsupportedFeature",
    "WebSocketException",
]


# Deprecation warnings below are attributed to this module (stacklevel=1), as websockets attributes
# them to its own: the default warning filters then hide them outside tests, as for websockets.


class WebSocketException(Exception):
    """Base class for the exceptions of the WebSocket implementation."""


class ConnectionClosed(WebSocketException):
    """
    Raised when trying to interact with a closed connection.

    ``rcvd`` and ``sent`` hold the close frames received and sent, if any; when both exist,
    ``rcvd_then_sent`` tells which came first from this side's point of view.
    """

    def __init__(
        self,
        rcvd: Close | None,
        sent: Close | None,
        rcvd_then_sent: bool | None = None,
    ) -> None:
        self.rcvd = rcvd
        self.sent = sent
        self.rcvd_then_sent = rcvd_then_sent
        # The order is known exactly when both frames exist.
        assert (rcvd_then_sent is None) == (rcvd is None or sent is None)

    def __str__(self) -> str:
        if self.rcvd is None and self.sent is None:
            return "no close frame received or sent"
        if self.rcvd is None:
            return f"sent {self.sent}; no close frame received"
        if self.sent is None:
            return f"received {self.rcvd}; no close frame sent"
        if self.rcvd_then_sent:
            return f"received {self.rcvd}; then sent {self.sent}"
        return f"sent {self.sent}; then received {self.rcvd}"

    @property
    def code(self) -> int:
        """Deprecated: use ``rcvd.code``; 1006 when no close frame was received."""
        warnings.warn(
            "ConnectionClosed.code is deprecated; "
            "use Protocol.close_code or ConnectionClosed.rcvd.code",
            DeprecationWarning,
            stacklevel=1,
        )
        if self.rcvd is None:
            from .frames import CloseCode

            return CloseCode.ABNORMAL_CLOSURE
        return self.rcvd.code

    @property
    def reason(self) -> str:
        """Deprecated: use ``rcvd.reason``; empty when no close frame was received."""
        warnings.warn(
            "ConnectionClosed.reason is deprecated; "
            "use Protocol.close_reason or ConnectionClosed.rcvd.reason",
            DeprecationWarning,
            stacklevel=1,
        )
        return "" if self.rcvd is None else self.rcvd.reason


class ConnectionClosedOK(ConnectionClosed):
    """Like :exc:`ConnectionClosed`, when the connection terminated properly (1000, 1001)."""


class ConnectionClosedError(ConnectionClosed):
    """Like :exc:`ConnectionClosed`, when the connection terminated with an error."""


class InvalidURI(WebSocketException):
    """Raised when connecting to a URI that isn't a valid WebSocket URI."""

    def __init__(self, uri: str, msg: str) -> None:
        self.uri = uri
        self.msg = msg

    def __str__(self) -> str:
        return f"{self.uri} isn't a valid URI: {self.msg}"


class InvalidProxy(WebSocketException):
    """Raised when connecting via a proxy that isn't valid."""

    def __init__(self, proxy: str, msg: str) -> None:
        self.proxy = proxy
        self.msg = msg

    def __str__(self) -> str:
        return f"{self.proxy} isn't a valid proxy: {self.msg}"


class InvalidHandshake(WebSocketException):
    """Base class for exceptions raised when the opening handshake fails."""


class SecurityError(InvalidHandshake):
    """Raised when a handshake request or response breaks a security rule."""


class RequestLineTooLong(SecurityError):
    """Raised when the request line of a handshake request is too long."""


class StatusLineTooLong(SecurityError):
    """Raised when the status line of a handshake response is too long."""


class HeaderLineTooLong(SecurityError):
    """Raised when a header line of a handshake request or response is too long."""


class TooManyHeaders(SecurityError):
    """Raised when a handshake request or response has too many headers."""


class ProxyError(InvalidHandshake):
    """Raised when failing to connect to a proxy."""


class InvalidProxyMessage(ProxyError):
    """Raised when an HTTP proxy response is malformed."""


class InvalidProxyStatus(ProxyError):
    """Raised when an HTTP proxy rejects the connection."""

    def __init__(self, response: Response) -> None:
        self.response = response

    def __str__(self) -> str:
        return f"proxy rejected connection: HTTP {self.response.status_code:d}"


class InvalidMessage(InvalidHandshake):
    """Raised when a handshake request or response is malformed."""


class InvalidMethod(InvalidHandshake):
    """Raised when a handshake request doesn't use HTTP GET."""

    def __init__(self, method: str) -> None:
        self.method = method

    def __str__(self) -> str:
        return f"unsupported HTTP method: {self.method}"


class InvalidProtocol(InvalidHandshake):
    """Raised when a handshake request doesn't use HTTP/1.1."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol

    def __str__(self) -> str:
        return f"unsupported HTTP version: {self.protocol}"


class InvalidStatus(InvalidHandshake):
    """Raised when a handshake response rejects the WebSocket upgrade."""

    def __init__(self, response: Response) -> None:
        self.response = response

    def __str__(self) -> str:
        return f"server rejected WebSocket connection: HTTP {self.response.status_code:d}"


class InvalidHeader(InvalidHandshake):
    """Raised when an HTTP header is missing, empty, or doesn't have a valid format or value."""

    def __init__(self, name: str, value: str | None = None) -> None:
        self.name = name
        self.value = value

    def __str__(self) -> str:
        if self.value is None:
            return f"missing {self.name} header"
        if not self.value:
            return f"empty {self.name} header"
        return f"invalid {self.name} header: {self.value}"


class InvalidHeaderFormat(InvalidHeader):
    """Raised when an HTTP header doesn't match the grammar for that header."""

    def __init__(self, name: str, error: str, header: str, pos: int) -> None:
        super().__init__(name, f"{error} at {pos} in {header}")


class InvalidHeaderValue(InvalidHeader):
    """Raised when an HTTP header is well-formed but its value isn't acceptable."""


class InvalidOrigin(InvalidHeader):
    """Raised when the Origin header in a request isn't allowed."""

    def __init__(self, origin: str | None) -> None:
        super().__init__("Origin", origin)


class InvalidUpgrade(InvalidHeader):
    """Raised when the Upgrade or Connection header isn't correct."""


class NegotiationError(InvalidHandshake):
    """Raised when negotiating an extension or a subprotocol fails."""


class DuplicateParameter(NegotiationError):
    """Raised when a parameter name is repeated in an extension header."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return f"duplicate parameter: {self.name}"


class InvalidParameterName(NegotiationError):
    """Raised when a parameter name in an extension header is invalid."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return f"invalid parameter name: {self.name}"


class InvalidParameterValue(NegotiationError):
    """Raised when a parameter value in an extension header is missing, empty or invalid."""

    def __init__(self, name: str, value: str | None) -> None:
        self.name = name
        self.value = value

    def __str__(self) -> str:
        if self.value is None:
            return f"missing value for parameter {self.name}"
        if not self.value:
            return f"empty value for parameter {self.name}"
        return f"invalid value for parameter {self.name}: {self.value}"


class ProtocolError(WebSocketException):
    """Raised when receiving or sending a frame, or a sequence of frames, that breaks RFC 6455."""


class PayloadTooBig(WebSocketException):
    """
    Raised when a frame or message exceeds the maximum size.

    ``size`` is the size of the offending frame, if known; ``current_size`` the size of the
    message read before it, if any, which is then added to ``max_size``.
    """

    def __init__(
        self,
        size_or_message: int | str | None,
        max_size: int | None = None,
        current_size: int | None = None,
    ) -> None:
        if isinstance(size_or_message, str):
            assert max_size is None and current_size is None
            warnings.warn(
                "PayloadTooBig(message) is deprecated; change to PayloadTooBig(size, max_size)",
                DeprecationWarning,
                stacklevel=1,
            )
            self.message: str | None = size_or_message
            return
        assert max_size is not None
        self.message = None
        self.size: int | None = size_or_message
        self.max_size: int = max_size
        self.current_size: int | None = None
        self.set_current_size(current_size)

    def __str__(self) -> str:
        if self.message is not None:
            return self.message
        parts = ["frame"]
        if self.size is not None:
            parts.append(f"with {self.size} bytes")
        if self.current_size is not None:
            parts.append(f"after reading {self.current_size} bytes")
        parts.append(f"exceeds limit of {self.max_size} bytes")
        return " ".join(parts)

    def set_current_size(self, current_size: int | None) -> None:
        """Record how much of the message was read before the frame; set at most once.

        The limit then reads as the message's limit rather than what was left of it.
        """
        if self.current_size is not None:
            raise AssertionError("current_size is already set")
        if current_size is None:
            return
        self.current_size = current_size
        self.max_size = current_size + self.max_size


class TooManyFragments(WebSocketException):
    """Raised when reassembling a message that contains too many frames."""

    def __init__(self, max_fragments: int) -> None:
        super().__init__(f"fragmented message exceeds limit of {max_fragments} frames")


class InvalidState(WebSocketException, AssertionError):
    """Raised when sending a frame is forbidden in the current state of the connection."""


class ConcurrencyError(WebSocketException, RuntimeError):
    """Raised when receiving or sending messages concurrently, which isn't allowed."""


class UnsupportedFeature(NotImplementedError):
    """
    Raised when calling a websockets feature that compat doesn't provide.

    ``feature`` names it; ``alternative`` tells what to do instead.
    """

    def __init__(self, feature: str, alternative: str) -> None:
        super().__init__(feature, alternative)
        self.feature = feature
        self.alternative = alternative

    def __str__(self) -> str:
        return f"{self.feature} is not supported by compat; {self.alternative}"
