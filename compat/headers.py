"""Parse and build the HTTP headers of the opening handshake, as ``websockets.headers`` does.

The grammars come from RFC 6455 section 9.1 and RFC 7230 appendix B. Parsers take a header value
with surrounding whitespace already stripped and raise
:exc:`~compat.exceptions.InvalidHeaderFormat` with the position of the first unexpected character.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from .exceptions import InvalidHeaderFormat, InvalidHeaderValue
from .typing import ConnectionOption, ExtensionName, Subprotocol, UpgradeProtocol

if TYPE_CHECKING:
    from .typing import ExtensionHeader, ExtensionParameter

__all__ = [
    "build_authorization_basic",
    "build_extension",
    "build_host",
    "build_subprotocol",
    "build_www_authenticate_basic",
    "parse_authorization_basic",
    "parse_connection",
    "parse_extension",
    "parse_subprotocol",
    "parse_upgrade",
    "validate_subprotocols",
]

T = TypeVar("T")

_TCHAR = r"[-!#$%&'*+.^_`|~0-9a-zA-Z]"
_token = re.compile(f"{_TCHAR}+")
_protocol = re.compile(f"{_TCHAR}+(?:/{_TCHAR}+)?")
_token68 = re.compile(r"[A-Za-z0-9-._~+/]+=*")
_ows = re.compile(r"[\t ]*")
_quoted_string = re.compile(r'"(?:[\x09\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x09\x20-\x7e\x80-\xff])*"')
_quoted_pair = re.compile(r"\\(.)")
_quotable = re.compile(r"[\x09\x20-\x7e\x80-\xff]*")
_needs_escape = re.compile(r'(["\\])')


def build_host(host: str, port: int, secure: bool, *, always_include_port: bool = False) -> str:
    """Build a ``Host`` header: brackets around IPv6 addresses, the port unless it's the default."""
    try:
        is_ipv6 = ipaddress.ip_address(host).version == 6
    except ValueError:
        is_ipv6 = False
    if is_ipv6:
        host = f"[{host}]"
    if always_include_port or port != (443 if secure else 80):
        host = f"{host}:{port}"
    return host


def _at(header: str, pos: int) -> str | None:
    """Return the character at ``pos``, or :obj:`None` at the end of ``header``."""
    return header[pos] if pos < len(header) else None


def _skip_ows(header: str, pos: int) -> int:
    """Return the position after optional whitespace at ``pos``."""
    match = _ows.match(header, pos)
    assert match is not None  # an empty match always succeeds
    return match.end()


def _expect(
    pattern: re.Pattern[str], what: str, header: str, pos: int, name: str
) -> tuple[str, int]:
    """Match ``pattern`` at ``pos``: return the text and the position after it, or fail."""
    match = pattern.match(header, pos)
    if match is None:
        raise InvalidHeaderFormat(name, f"expected {what}", header, pos)
    return match.group(), match.end()


def _parse_token(header: str, pos: int, name: str) -> tuple[str, int]:
    return _expect(_token, "token", header, pos, name)


def _parse_quoted_string(header: str, pos: int, name: str) -> tuple[str, int]:
    """Parse a quoted string at ``pos``: return its unescaped content and the position after it."""
    quoted, pos = _expect(_quoted_string, "quoted string", header, pos, name)
    return _quoted_pair.sub(r"\1", quoted[1:-1]), pos


def build_quoted_string(value: str) -> str:
    """Quote ``value`` as an HTTP quoted string; the reverse of parsing one."""
    if _quotable.fullmatch(value) is None:
        raise ValueError("invalid characters for quoted-string encoding")
    return '"' + _needs_escape.sub(r"\\\1", value) + '"'


def _skip_commas(header: str, pos: int) -> int:
    """Skip empty list elements, which RFC 7230 section 7 tells recipients to ignore."""
    while _at(header, pos) == ",":
        pos = _skip_ows(header, pos + 1)
    return pos


def _parse_list(
    parse_item: Callable[[str, int, str], tuple[T, int]], header: str, name: str
) -> list[T]:
    """Parse a comma-separated list of one or more items (``1#item``) spanning ``header``."""
    items: list[T] = []
    pos = _skip_commas(header, 0)
    while True:
        item, pos = parse_item(header, pos, name)
        items.append(item)
        pos = _skip_ows(header, pos)
        if pos == len(header):
            return items
        if _at(header, pos) != ",":
            raise InvalidHeaderFormat(name, "expected comma", header, pos)
        pos = _skip_commas(header, pos)
        if pos == len(header):
            return items


def _parse_connection_option(header: str, pos: int, name: str) -> tuple[ConnectionOption, int]:
    option, pos = _parse_token(header, pos, name)
    return ConnectionOption(option), pos


def parse_connection(header: str) -> list[ConnectionOption]:
    """
    Parse a ``Connection`` header into its options.

    Raises:
        InvalidHeaderFormat: On invalid inputs.
    """
    return _parse_list(_parse_connection_option, header, "Connection")


def _parse_upgrade_protocol(header: str, pos: int, name: str) -> tuple[UpgradeProtocol, int]:
    protocol, pos = _expect(_protocol, "protocol", header, pos, name)
    return UpgradeProtocol(protocol), pos


def parse_upgrade(header: str) -> list[UpgradeProtocol]:
    """
    Parse an ``Upgrade`` header into its protocols.

    Raises:
        InvalidHeaderFormat: On invalid inputs.
    """
    return _parse_list(_parse_upgrade_protocol, header, "Upgrade")


def _parse_extension_parameter(header: str, pos: int, name: str) -> tuple[ExtensionParameter, int]:
    """Parse ``name`` or ``name=value``; a quoted value must still be a token once unquoted."""
    param, pos = _parse_token(header, pos, name)
    pos = _skip_ows(header, pos)
    if _at(header, pos) != "=":
        return (param, None), pos
    pos = _skip_ows(header, pos + 1)
    if _at(header, pos) == '"':
        value, end = _parse_quoted_string(header, pos, name)
        if _token.fullmatch(value) is None:
            raise InvalidHeaderFormat(name, "invalid quoted header content", header, pos)
        pos = end
    else:
        value, pos = _parse_token(header, pos, name)
    return (param, value), _skip_ows(header, pos)


def _parse_extension_item(header: str, pos: int, name: str) -> tuple[ExtensionHeader, int]:
    """Parse an extension name followed by ``;``-separated parameters."""
    extension, pos = _parse_token(header, pos, name)
    pos = _skip_ows(header, pos)
    parameters: list[ExtensionParameter] = []
    while _at(header, pos) == ";":
        parameter, pos = _parse_extension_parameter(header, _skip_ows(header, pos + 1), name)
        parameters.append(parameter)
    return (ExtensionName(extension), parameters), pos


def parse_extension(header: str) -> list[ExtensionHeader]:
    """
    Parse a ``Sec-WebSocket-Extensions`` header.

    Return ``[(extension name, [(parameter name, parameter value or None), ...]), ...]``.

    Raises:
        InvalidHeaderFormat: On invalid inputs.
    """
    return _parse_list(_parse_extension_item, header, "Sec-WebSocket-Extensions")


def build_extension(extensions: Sequence[ExtensionHeader]) -> str:
    """Build a ``Sec-WebSocket-Extensions`` header; the reverse of :func:`parse_extension`."""
    # Parameter values are tokens, so they never need quoting.
    return ", ".join(
        "; ".join([name, *(key if value is None else f"{key}={value}" for key, value in params)])
        for name, params in extensions
    )


def _parse_subprotocol_item(header: str, pos: int, name: str) -> tuple[Subprotocol, int]:
    subprotocol, pos = _parse_token(header, pos, name)
    return Subprotocol(subprotocol), pos


def parse_subprotocol(header: str) -> list[Subprotocol]:
    """
    Parse a ``Sec-WebSocket-Protocol`` header into its subprotocols.

    Raises:
        InvalidHeaderFormat: On invalid inputs.
    """
    return _parse_list(_parse_subprotocol_item, header, "Sec-WebSocket-Protocol")


def build_subprotocol(subprotocols: Sequence[Subprotocol]) -> str:
    """Build a ``Sec-WebSocket-Protocol`` header; the reverse of :func:`parse_subprotocol`."""
    return ", ".join(subprotocols)


def validate_subprotocols(subprotocols: Sequence[Subprotocol]) -> None:
    """
    Check that ``subprotocols`` is a list of tokens, fit for :func:`build_subprotocol`.

    Raises:
        TypeError: If it isn't a sequence, or is a string.
        ValueError: If a subprotocol isn't a token.
    """
    if isinstance(subprotocols, str):
        raise TypeError("subprotocols must be a list, not a str")
    if not isinstance(subprotocols, Sequence):
        raise TypeError("subprotocols must be a list")
    invalid = [item for item in subprotocols if not _token.fullmatch(item)]
    if invalid:
        raise ValueError(f"invalid subprotocol: {invalid[0]}")


def build_www_authenticate_basic(realm: str) -> str:
    """Build a ``WWW-Authenticate`` header asking for HTTP Basic Auth in ``realm`` (RFC 7617)."""
    return f"Basic realm={build_quoted_string(realm)}, charset={build_quoted_string('UTF-8')}"


def parse_authorization_basic(header: str) -> tuple[str, str]:
    """
    Parse an ``Authorization`` header for HTTP Basic Auth into ``(username, password)``.

    Non-UTF-8 credentials are decoded with surrogate escapes.

    Raises:
        InvalidHeaderFormat: On invalid inputs.
        InvalidHeaderValue: On another scheme or undecodable credentials.
    """
    name = "Authorization"
    scheme, pos = _parse_token(header, 0, name)
    if scheme.lower() != "basic":
        raise InvalidHeaderValue(name, f"unsupported scheme: {scheme}")
    if _at(header, pos) != " ":
        raise InvalidHeaderFormat(name, "expected space after scheme", header, pos)
    credentials, pos = _expect(_token68, "token68", header, pos + 1, name)
    if pos < len(header):
        raise InvalidHeaderFormat(name, "trailing data", header, pos)
    try:
        decoded = base64.b64decode(credentials.encode()).decode(errors="surrogateescape")
    except binascii.Error:
        raise InvalidHeaderValue(name, "expected base64-encoded credentials") from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise InvalidHeaderValue(name, "expected username:password credentials")
    return username, password


def build_authorization_basic(username: str, password: str) -> str:
    """
    Build an ``Authorization`` header for HTTP Basic Auth; the reverse of
    :func:`parse_authorization_basic`. Surrogate escapes stand for non-UTF-8 bytes.
    """
    assert ":" not in username
    credentials = f"{username}:{password}".encode(errors="surrogateescape")
    return "Basic " + base64.b64encode(credentials).decode()
