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
from .extensions.base import ClientExtensionFactory, Extension, ServerExtensionFactory
from .extensions.permessage_deflate import as_native
from .headers import (
    build_extension,
    parse_connection,
    parse_extension,
    parse_subprotocol,
    parse_upgrade,
)
from .http11 import Request, Response
from .typing import ExtensionHeader, Origin, Subprotocol

__all__ = [
    "accept_extensions",
    "accept_key",
    "check_request",
    "check_response",
    "debug_label",
    "negotiate_extensions",
    "offer_extensions",
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


def _declines(exc: Exception) -> bool:
    """
    Whether a factory raised NegotiationError, refusing the parameters it was given.

    Factories written for another implementation of this API raise that implementation's
    NegotiationError, which means the same.
    """
    return any(cls.__name__ == "NegotiationError" for cls in type(exc).__mro__)


def _parsed_extensions(headers: Headers) -> list[ExtensionHeader]:
    """Every extension of every ``Sec-WebSocket-Extensions`` header, all parsed first."""
    return _tokens(headers, "Sec-WebSocket-Extensions", parse_extension)


def negotiate_extensions(
    headers: Headers, factories: Sequence[ServerExtensionFactory] | None
) -> tuple[str | None, list[Extension]]:
    """
    Answer the client's offers in its order: the first factory of the same name accepting an
    offer answers it; offers that no factory accepts are declined.

    Return the ``Sec-WebSocket-Extensions`` response header, if any, and the extensions.
    """
    if not factories or "Sec-WebSocket-Extensions" not in headers:
        return None, []
    answers: list[ExtensionHeader] = []
    accepted: list[Extension] = []
    for name, params in _parsed_extensions(headers):
        for factory in factories:
            if factory.name != name:
                continue
            try:
                answer, extension = factory.process_request_params(params, accepted)
            except Exception as exc:
                if _declines(exc):
                    continue
                raise
            answers.append((name, answer))
            accepted.append(extension)
            break
    header = build_extension(answers) if answers else None
    return header, [as_native(extension) for extension in accepted]


def _check_key(key: str) -> None:
    """Refuse a Sec-WebSocket-Key that isn't 16 bytes in base64, chaining a decoding error."""
    cause: binascii.Error | None = None
    try:
        size = len(base64.b64decode(key.encode(), validate=True))
    except binascii.Error as exc:
        size, cause = 0, exc
    if size != 16:
        raise InvalidHeaderValue("Sec-WebSocket-Key", key) from cause


def _origin_allowed(allowed: Origin | re.Pattern[str] | None, origin: str | None) -> bool:
    """Whether ``origin`` (None when the request has none) is ``allowed`` or matches it."""
    match = isinstance(allowed, re.Pattern) and origin is not None and allowed.fullmatch(origin)
    return allowed == origin or bool(match)


def check_request(
    request: Request,
    *,
    origins: Sequence[Origin | re.Pattern[str] | None] | None,
    select_subprotocol: SelectSubprotocol,
    extensions: Sequence[ServerExtensionFactory] | None,
) -> tuple[str, str | None, Subprotocol | None, list[Extension]]:
    """
    Validate an upgrade request and negotiate extensions with the ``extensions`` factories.

    Return the key, the extensions header, the subprotocol and the accepted extensions.
    """
    request_line = (
        (request.method, "GET", InvalidMethod),
        (request.protocol, "HTTP/1.1", InvalidProtocol),
    )
    for actual, expected, error in request_line:
        if actual != expected:
            raise error(actual)
    headers = request.headers
    _check_upgrade_headers(headers)
    key = _single(headers, "Sec-WebSocket-Key")
    _check_key(key)
    version = _single(headers, "Sec-WebSocket-Version")
    if version != "13":
        raise InvalidHeaderValue("Sec-WebSocket-Version", version)
    try:
        origin = headers.get("Origin")
    except MultipleValuesError:
        raise InvalidHeader("Origin", "multiple values") from None
    if origins is not None and not any(_origin_allowed(allowed, origin) for allowed in origins):
        raise InvalidOrigin(origin)
    extensions_header, accepted = negotiate_extensions(headers, extensions)
    offered = _tokens(headers, "Sec-WebSocket-Protocol", parse_subprotocol)
    subprotocol = select_subprotocol(offered)
    return key, extensions_header, subprotocol, accepted


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


def rejection_for(exc: InvalidHandshake) -> Response:
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
    explanation = str(exc)
    cause = exc.__cause__
    while cause is not None:
        explanation += f"; {cause}"
        cause = cause.__cause__
    return reject(
        http.HTTPStatus.BAD_REQUEST, f"Failed to open a WebSocket connection: {explanation}.\n"
    )


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


def offer_extensions(factories: Sequence[ClientExtensionFactory] | None) -> str | None:
    """The ``Sec-WebSocket-Extensions`` request header: each factory's offer, in order."""
    if factories is None:
        return None
    return build_extension([(factory.name, factory.get_request_params()) for factory in factories])


def accept_extensions(
    headers: Headers, factories: Sequence[ClientExtensionFactory] | None
) -> list[Extension]:
    """
    Configure the extensions the server accepted, in its order: the first factory of the same
    name accepting the server's parameters configures each.

    Raises:
        NegotiationError: If no factory accepts one of them.
    """
    if "Sec-WebSocket-Extensions" not in headers:
        return []
    if factories is None:
        raise NegotiationError("no extensions supported")
    accepted: list[Extension] = []
    for name, params in _parsed_extensions(headers):
        for factory in factories:
            if factory.name != name:
                continue
            try:
                extension = factory.process_response_params(params, accepted)
            except Exception as exc:
                if _declines(exc):
                    continue
                raise
            accepted.append(extension)
            break
        else:
            raise NegotiationError(f"Unsupported extension: name = {name}, params = {params}")
    return [as_native(extension) for extension in accepted]


def check_response(
    response: Response,
    *,
    subprotocols: Sequence[Subprotocol] | None,
    extensions: Sequence[ClientExtensionFactory] | None,
) -> tuple[Subprotocol | None, list[Extension]]:
    """Validate the extensions and subprotocol a server accepted; return them."""
    headers = response.headers
    accepted = accept_extensions(headers, extensions)
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
    return subprotocol, accepted


def check_upgrade(headers: Headers) -> None:
    """Check the Connection and Upgrade headers of a request or a 101 response as websockets does.

    Raises :exc:`~compat.exceptions.InvalidUpgrade` or
    :exc:`~compat.exceptions.InvalidHeaderFormat`.
    """
    _check_upgrade_headers(headers)
