"""WebSocket URIs, as in ``websockets.uri``."""

from __future__ import annotations

import dataclasses
import functools
import urllib.parse
from collections.abc import Callable

from .exceptions import InvalidURI

__all__ = ["WebSocketURI", "parse_uri"]

# gen-delims and sub-delims of RFC 3987: left alone when percent-encoding an IRI.
DELIMS = ":/?#[]@!$&'()*+,;="


def credentials(
    parsed: urllib.parse.ParseResult, invalid: Callable[[str], Exception]
) -> tuple[str | None, str | None]:
    """
    Return the decoded username and password of a URL, or :obj:`None` for both.

    A username without a password is useless for Basic Auth: raise ``invalid(message)``.
    """
    if parsed.username is None:
        return None, None
    if parsed.password is None:
        raise invalid("username provided without password")
    return (
        urllib.parse.unquote(parsed.username, errors="strict"),
        urllib.parse.unquote(parsed.password, errors="strict"),
    )


def is_iri(address: str) -> bool:
    """Tell whether ``address`` contains non-ASCII characters, which makes it an IRI."""
    return not address.isascii()


class Credentials:
    """The ``user_info`` of an address whose ``username`` and ``password`` are both set or not."""

    username: str | None
    password: str | None

    @property
    def user_info(self) -> tuple[str, str] | None:
        """``(username, password)`` if the address has credentials."""
        if self.username is None:
            return None
        assert self.password is not None
        return self.username, self.password


@dataclasses.dataclass
class WebSocketURI(Credentials):
    """
    WebSocket URI.

    ``secure`` is :obj:`True` for ``wss``; ``host`` is lower-cased; ``port`` is always set;
    ``path`` and ``query`` may be empty; ``username`` and ``password`` come from the user info.
    """

    @property
    def resource_name(self) -> str:
        """Path and query as sent in the request line."""
        path = self.path or "/"
        return f"{path}?{self.query}" if self.query else path

    secure: bool
    host: str
    port: int
    path: str
    query: str
    username: str | None = None
    password: str | None = None


def parse_uri(uri: str) -> WebSocketURI:
    """
    Parse and validate a ``ws://`` or ``wss://`` URI; IRIs are converted to URIs.

    Raises:
        InvalidURI: If ``uri`` isn't a valid WebSocket URI.
    """
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme not in ("ws", "wss"):
        raise InvalidURI(uri, "scheme isn't ws or wss")
    if parsed.hostname is None:
        raise InvalidURI(uri, "hostname isn't provided")
    if parsed.fragment:
        raise InvalidURI(uri, "fragment identifier is meaningless")
    secure = parsed.scheme == "wss"
    port = parsed.port or (443 if secure else 80)
    username, password = credentials(parsed, functools.partial(InvalidURI, uri))
    host, path, query = parsed.hostname, parsed.path, parsed.query
    if is_iri(uri):
        host = host.encode("idna").decode()
        path = urllib.parse.quote(path, safe=DELIMS)
        query = urllib.parse.quote(query, safe=DELIMS)
    return WebSocketURI(secure, host, port, path, query, username, password)
