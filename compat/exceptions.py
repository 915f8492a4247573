"""Exceptions raised by compat: the same classes, bases and messages as ``websockets.exceptions``.

Everything derives from :exc:`WebSocketException`. Its direct subclasses are the closed
connection (:exc:`ConnectionClosed`, refined by :exc:`ConnectionClosedOK` and
:exc:`ConnectionClosedError`), a bad URI or proxy (:exc:`InvalidURI`, :exc:`InvalidProxy`), a
failed opening handshake (:exc:`InvalidHandshake`), and frame-level trouble
(:exc:`ProtocolError`, :exc:`PayloadTooBig`, :exc:`TooManyFragments`, :exc:`InvalidState`,
:exc:`ConcurrencyError`). Handshake failures branch further: limits (:exc:`SecurityError`),
proxies (:exc:`ProxyError`), headers (:exc:`InvalidHeader`) and negotiation
(:exc:`NegotiationError`), each with the subclasses websockets has.

:exc:`UnsupportedFeature` (a :exc:`NotImplementedError`) marks websockets features that compat
doesn't provide; it is raised where the feature is requested. :data:`UNSUPPORTED_FEATURES` lists
them by the feature id the conformance catalogue uses, with what to use instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

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


def _formatted(template: str) -> Callable[[Any], str]:
    """A ``__str__`` filling ``template`` with the exception's attributes."""

    def __str__(self: Any) -> str:
        return template.format_map(vars(self))

    return __str__


def _by_value(missing: str, empty: str, invalid: str) -> Callable[[Any], str]:
    """A ``__str__`` choosing its template by the ``value`` attribute: None, empty or else."""

    def __str__(self: Any) -> str:
        template = missing if self.value is None else invalid if self.value else empty
        return template.format_map(vars(self))

    return __str__


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
        # The order is known exactly when both frames exist.
        assert (rcvd_then_sent is None) == (None in (rcvd, sent))
        self.rcvd, self.sent, self.rcvd_then_sent = rcvd, sent, rcvd_then_sent

    def __str__(self) -> str:
        frames = {"received": self.rcvd, "sent": self.sent}
        seen = [f"{verb} {frame}" for verb, frame in frames.items() if frame is not None]
        unseen = [verb for verb, frame in frames.items() if frame is None]
        if not seen:
            return "no close frame received or sent"
        if unseen:
            return f"{seen[0]}; no close frame {unseen[0]}"
        first, then = seen if self.rcvd_then_sent else reversed(seen)
        return f"{first}; then {then}"

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

    __str__ = _formatted("{uri} isn't a valid URI: {msg}")

    def __init__(self, uri: str, msg: str) -> None:
        self.uri, self.msg = uri, msg


class InvalidProxy(WebSocketException):
    """Raised when connecting via a proxy that isn't valid."""

    __str__ = _formatted("{proxy} isn't a valid proxy: {msg}")

    def __init__(self, proxy: str, msg: str) -> None:
        self.proxy, self.msg = proxy, msg


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

    __str__ = _formatted("proxy rejected connection: HTTP {response.status_code:d}")

    def __init__(self, response: Response) -> None:
        self.response = response


class InvalidMessage(InvalidHandshake):
    """Raised when a handshake request or response is malformed."""


class InvalidMethod(InvalidHandshake):
    """Raised when a handshake request doesn't use HTTP GET."""

    __str__ = _formatted("unsupported HTTP method: {method}")

    def __init__(self, method: str) -> None:
        self.method = method


class InvalidProtocol(InvalidHandshake):
    """Raised when a handshake request doesn't use HTTP/1.1."""

    __str__ = _formatted("unsupported HTTP version: {protocol}")

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol


class InvalidStatus(InvalidHandshake):
    """Raised when a handshake response rejects the WebSocket upgrade."""

    __str__ = _formatted("server rejected WebSocket connection: HTTP {response.status_code:d}")

    def __init__(self, response: Response) -> None:
        self.response = response


class InvalidHeader(InvalidHandshake):
    """Raised when an HTTP header is missing, empty, or doesn't have a valid format or value."""

    __str__ = _by_value(
        missing="missing {name} header",
        empty="empty {name} header",
        invalid="invalid {name} header: {value}",
    )

    def __init__(self, name: str, value: str | None = None) -> None:
        self.name, self.value = name, value


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

    __str__ = _formatted("duplicate parameter: {name}")

    def __init__(self, name: str) -> None:
        self.name = name


class InvalidParameterName(NegotiationError):
    """Raised when a parameter name in an extension header is invalid."""

    __str__ = _formatted("invalid parameter name: {name}")

    def __init__(self, name: str) -> None:
        self.name = name


class InvalidParameterValue(NegotiationError):
    """Raised when a parameter value in an extension header is missing, empty or invalid."""

    __str__ = _by_value(
        missing="missing value for parameter {name}",
        empty="empty value for parameter {name}",
        invalid="invalid value for parameter {name}: {value}",
    )

    def __init__(self, name: str, value: str | None) -> None:
        self.name, self.value = name, value


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
        self.message: str | None = None
        if not isinstance(size_or_message, str):
            assert max_size is not None
            self.size: int | None = size_or_message
            self.max_size: int = max_size
            self.current_size: int | None = None
            self.set_current_size(current_size)
            return
        # The form before websockets 14: a message alone.
        assert max_size is None and current_size is None
        warnings.warn(
            "PayloadTooBig(message) is deprecated; change to PayloadTooBig(size, max_size)",
            DeprecationWarning,
            stacklevel=1,
        )
        self.message = size_or_message

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


class Unsupported(NamedTuple):
    """A websockets feature compat doesn't provide: what it is, and what to use instead."""

    what: str
    alternative: str


#: compat's unsupported features, by their id in the conformance catalogue (``[[feature]]``
#: entries with ``status = "unsupported"``), which takes each description of what to use
#: instead from here.
UNSUPPORTED_FEATURES: dict[str, Unsupported] = {
    "distribution-surface": Unsupported(
        what="the threading, Sans-I/O and legacy APIs of websockets",
        alternative="websockets.asyncio (connect, serve) and their connection classes",
    ),
    "non-ascii-request-headers": Unsupported(
        what="non-ASCII text in request headers",
        alternative=(
            "send ASCII header names and values, e.g. percent-encode text with urllib.parse.quote()"
        ),
    ),
}


class UnsupportedFeature(NotImplementedError):
    """
    Raised when calling a websockets feature that compat doesn't provide.

    ``feature`` is its id in :data:`UNSUPPORTED_FEATURES`, ``alternative`` what to do instead;
    ``detail``, if given, names what was requested in place of the feature's description.
    """

    def __init__(self, feature: str, detail: str | None = None) -> None:
        super().__init__(feature, detail)
        entry = UNSUPPORTED_FEATURES[feature]
        self.feature = feature
        self.detail = detail
        self.alternative = entry.alternative
        self.what = entry.what if detail is None else detail

    def __str__(self) -> str:
        return f"{self.what} is not supported by compat; {self.alternative}"
