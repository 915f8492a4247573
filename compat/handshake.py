"""The opening handshake, without I/O: what each side sends and how it checks the other side.

These functions decide the content of the HTTP messages and validate them as websockets does,
raising the same exceptions and building the same rejection responses.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import http
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from .datastructures import Headers, MultipleValuesError
from .exceptions import (
    InvalidHandshake,
    InvalidHeader,
    InvalidHeaderValue,
    InvalidMethod,
    InvalidOrigin,
    InvalidProtocol,
    InvalidUpgrade,
    NegotiationError,
)
from .extensions.permessage_deflate import PerMessageDeflate, client_accept, server_negotiate
from .headers import parse_connection, parse_subprotocol, parse_upgrade
from .http11 import Request, Response
from .typing import Origin, Subprotocol

__all__ = [
    "accept_key",
    "check_request",
    "check_response",
    "debug_label",
    "reject",
    "switching_protocols",
]

T = TypeVar("T")

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

SelectSubprotocol = Callable[[Sequence[Subprotocol]], Subprotocol | None]


def accept_key(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` value answering ``Sec-WebSocket-Key`` ``key``."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def reject(status: http.HTTPStatus | int, text: str) -> Response:
    """A short plain-text response refusing the upgrade."""
    code = http.HTTPStatus(status)
    body = text.encode()
    response = Response(code.value, code.phrase, Headers(), body)
    response.headers["Date"] = email.utils.formatdate(usegmt=True)
    response.headers["Connection"] = "close"
    response.headers["Content-Length"] = str(len(body))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    return response


def _tokens(headers: Headers, name: str, parse: Callable[[str], list[T]]) -> list[T]:
    """Every item of every ``name`` header, parsed with ``parse``."""
    return [item for value in headers.get_all(name) for item in parse(value)]


def _check_upgrade_headers(headers: Headers) -> None:
    connection = _tokens(headers, "Connection", parse_connection)
    if not any(value.lower() == "upgrade" for value in connection):
        raise InvalidUpgrade("Connection", ", ".join(connection) if connection else None)
    upgrade = _tokens(headers, "Upgrade", parse_upgrade)
    if not (len(upgrade) == 1 and upgrade[0].lower() == "websocket"):
        raise InvalidUpgrade("Upgrade", ", ".join(upgrade) if upgrade else None)


def _single(headers: Headers, name: str) -> str:
    try:
        return headers[name]
    except KeyError:
        raise InvalidHeader(name) from None
    except MultipleValuesError:
        raise InvalidHeader(name, "multiple values") from None


def check_request(
    request: Request,
    *,
    origins: Sequence[Origin | re.Pattern[str] | None] | None,
    select_subprotocol: SelectSubprotocol,
    compression: str | None,
) -> tuple[str, str | None, Subprotocol | None, PerMessageDeflate | None]:
    """Validate an upgrade request; return the key, extensions header, subprotocol and codec."""
    if request.method != "GET":
        raise InvalidMethod(request.method)
    if request.protocol != "HTTP/1.1":
        raise InvalidProtocol(request.protocol)
    headers = request.headers
    _check_upgrade_headers(headers)
    key = _single(headers, "Sec-WebSocket-Key")
    try:
        raw_key = base64.b64decode(key.encode(), validate=True)
    except binascii.Error as exc:
        raise InvalidHeaderValue("Sec-WebSocket-Key", key) from exc
    if len(raw_key) != 16:
        raise InvalidHeaderValue("Sec-WebSocket-Key", key)
    version = _single(headers, "Sec-WebSocket-Version")
    if version != "13":
        raise InvalidHeaderValue("Sec-WebSocket-Version", version)
    try:
        origin = headers.get("Origin")
    except MultipleValuesError:
        raise InvalidHeader("Origin", "multiple values") from None
    if origins is not None:
        for allowed in origins:
            if allowed == origin or (
                isinstance(allowed, re.Pattern)
                and origin is not None
                and allowed.fullmatch(origin) is not None
            ):
                break
        else:
            raise InvalidOrigin(origin)
    negotiated = server_negotiate(headers.get_all("Sec-WebSocket-Extensions"), compression)
    extensions_header, codec = negotiated if negotiated is not None else (None, None)
    offered = _tokens(headers, "Sec-WebSocket-Protocol", parse_subprotocol)
    subprotocol = select_subprotocol(offered)
    return key, extensions_header, subprotocol, codec


def default_select_subprotocol(
    available: Sequence[Subprotocol] | None,
) -> SelectSubprotocol:
    """websockets' rule: the first of the server's subprotocols that the client offers."""

    def select(offered: Sequence[Subprotocol]) -> Subprotocol | None:
        if not available:
            return None
        if not offered:
            raise NegotiationError("missing subprotocol")
        proposed = set(offered)
        for subprotocol in available:
            if subprotocol in proposed:
                return subprotocol
        raise NegotiationError("invalid subprotocol; expected one of " + ", ".join(available))

    return select


def switching_protocols(
    key: str, extensions_header: str | None, subprotocol: Subprotocol | None
) -> Response:
    """The 101 response accepting an upgrade."""
    headers = Headers()
    headers["Date"] = email.utils.formatdate(usegmt=True)
    headers["Upgrade"] = "websocket"
    headers["Connection"] = "Upgrade"
    headers["Sec-WebSocket-Accept"] = accept_key(key)
    if extensions_header is not None:
        headers["Sec-WebSocket-Extensions"] = extensions_header
    if subprotocol is not None:
        headers["Sec-WebSocket-Protocol"] = subprotocol
    return Response(101, "Switching Protocols", headers)


def rejection_for(exc: Exception) -> Response:
    """The response websockets sends when :func:`check_request` raises ``exc``."""
    if isinstance(exc, InvalidOrigin):
        return reject(http.HTTPStatus.FORBIDDEN, f"Failed to open a WebSocket connection: {exc}.\n")
    if isinstance(exc, InvalidMethod):
        response = reject(
            http.HTTPStatus.METHOD_NOT_ALLOWED, f"Failed to open a WebSocket connection: {exc}.\n"
        )
        response.headers["Allow"] = "GET"
        return response
    if isinstance(exc, InvalidProtocol):
        return reject(
            http.HTTPStatus.HTTP_VERSION_NOT_SUPPORTED,
            f"Failed to open a WebSocket connection: {exc}.\n",
        )
    if isinstance(exc, InvalidUpgrade):
        response = reject(
            http.HTTPStatus.UPGRADE_REQUIRED,
            f"Failed to open a WebSocket connection: {exc}.\n"
            "\n"
            "You cannot access a WebSocket server directly with a browser. "
            "You need a WebSocket client.\n",
        )
        response.headers["Upgrade"] = "websocket"
        return response
    if isinstance(exc, InvalidHandshake):
        explanation = str(exc)
        cause = exc.__cause__
        while cause is not None:
            explanation += f"; {cause}"
            cause = cause.__cause__
        return reject(
            http.HTTPStatus.BAD_REQUEST, f"Failed to open a WebSocket connection: {explanation}.\n"
        )
    return server_error()


def debug_label(exc: InvalidHandshake) -> str:
    """The DEBUG message websockets logs when :func:`check_request` raises ``exc``."""
    for kind, label in (
        (InvalidOrigin, "! invalid origin"),
        (InvalidMethod, "! invalid method"),
        (InvalidProtocol, "! invalid protocol"),
        (InvalidUpgrade, "! invalid upgrade"),
    ):
        if isinstance(exc, kind):
            return label
    return "! invalid handshake"


def server_error() -> Response:
    """The response to a handshake that failed on the server's side."""
    return reject(
        http.HTTPStatus.INTERNAL_SERVER_ERROR,
        "Failed to open a WebSocket connection.\nSee server log for more information.\n",
    )


def check_response(
    response: Response,
    *,
    subprotocols: Sequence[Subprotocol] | None,
    offered_extensions: bool,
) -> tuple[Subprotocol | None, PerMessageDeflate | None]:
    """Validate the extensions and subprotocol a server accepted; return them."""
    headers = response.headers
    extensions = headers.get_all("Sec-WebSocket-Extensions")
    codec: PerMessageDeflate | None = None
    if extensions:
        if not offered_extensions:
            raise NegotiationError("no extensions supported")
        codec = client_accept(extensions, offered_extensions)
    subprotocol: Subprotocol | None = None
    if "Sec-WebSocket-Protocol" in headers:
        if subprotocols is None:
            raise NegotiationError("no subprotocols supported")
        parsed = _tokens(headers, "Sec-WebSocket-Protocol", parse_subprotocol)
        if len(parsed) > 1:
            raise InvalidHeader("Sec-WebSocket-Protocol", f"multiple values: {', '.join(parsed)}")
        subprotocol = parsed[0]
        if subprotocol not in subprotocols:
            raise NegotiationError(f"unsupported subprotocol: {subprotocol}")
    return subprotocol, codec


def check_upgrade(headers: Headers) -> None:
    """Check the Connection and Upgrade headers of a request or a 101 response as websockets does.

    Raises :exc:`~compat.exceptions.InvalidUpgrade` or
    :exc:`~compat.exceptions.InvalidHeaderFormat`.
    """
    _check_upgrade_headers(headers)
