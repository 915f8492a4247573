"""WebSocket URIs and proxy addresses, as in ``websockets.uri`` and ``websockets.proxy``."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable

from .exceptions import InvalidProxy, InvalidURI

__all__ = ["Proxy", "WebSocketURI", "get_proxy", "parse_proxy", "parse_uri"]

# gen-delims and sub-delims of RFC 3987: left alone when percent-encoding an IRI.
DELIMS = ":/?#[]@!$&'()*+,;="

PROXY_SCHEMES = ("socks5h", "socks5", "socks4a", "socks4", "https", "http")


def _credentials(
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


def _is_iri(address: str) -> bool:
    """Tell whether ``address`` contains non-ASCII characters, which makes it an IRI."""
    return not address.isascii()


@dataclasses.dataclass
class WebSocketURI:
    """
    WebSocket URI.

    ``secure`` is :obj:`True` for ``wss``; ``host`` is lower-cased; ``port`` is always set;
    ``path`` and ``query`` may be empty; ``username`` and ``password`` come from the user info.
    """

    secure: bool
    host: str
    port: int
    path: str
    query: str
    username: str | None = None
    password: str | None = None

    @property
    def resource_name(self) -> str:
        """Path and query as sent in the request line."""
        path = self.path or "/"
        return f"{path}?{self.query}" if self.query else path

    @property
    def user_info(self) -> tuple[str, str] | None:
        """``(username, password)`` if the URI has credentials."""
        if self.username is None:
            return None
        assert self.password is not None
        return self.username, self.password


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
    username, password = _credentials(parsed, functools.partial(InvalidURI, uri))
    host, path, query = parsed.hostname, parsed.path, parsed.query
    if _is_iri(uri):
        host = host.encode("idna").decode()
        path = urllib.parse.quote(path, safe=DELIMS)
        query = urllib.parse.quote(query, safe=DELIMS)
    return WebSocketURI(secure, host, port, path, query, username, password)


@dataclasses.dataclass
class Proxy:
    """
    Proxy address.

    ``scheme`` is one of ``socks5h``, ``socks5``, ``socks4a``, ``socks4``, ``https``, ``http``;
    ``host`` is lower-cased; ``port`` is always set; ``username`` and ``password`` come from the
    user info.
    """

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @property
    def user_info(self) -> tuple[str, str] | None:
        """``(username, password)`` if the proxy address has credentials."""
        if self.username is None:
            return None
        assert self.password is not None
        return self.username, self.password


def parse_proxy(proxy: str) -> Proxy:
    """
    Parse and validate a proxy address such as ``http://host:port`` or ``socks5h://host``.

    Raises:
        InvalidProxy: If ``proxy`` isn't a valid proxy address.
    """
    parsed = urllib.parse.urlparse(proxy)
    if parsed.scheme not in PROXY_SCHEMES:
        raise InvalidProxy(proxy, f"scheme {parsed.scheme} isn't supported")
    if parsed.hostname is None:
        raise InvalidProxy(proxy, "hostname isn't provided")
    for present, what in (
        (parsed.path not in ("", "/"), "path"),
        (bool(parsed.query), "query"),
        (bool(parsed.fragment), "fragment"),
    ):
        if present:
            raise InvalidProxy(proxy, f"{what} is meaningless")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    username, password = _credentials(parsed, functools.partial(InvalidProxy, proxy))
    host = parsed.hostname
    if _is_iri(proxy):
        host = host.encode("idna").decode()
    return Proxy(parsed.scheme, host, port, username, password)


# Elsewhere than on macOS and Windows, the standard library finds proxies and bypass rules in
# the environment only; compat reads them there in one quick pass, as each connection does.
_PROXIES_FROM_ENVIRONMENT = sys.platform not in ("darwin", "win32")
# Public but missing from typeshed.
_proxy_bypass_environment: Callable[[str, dict[str, str]], bool] = (
    urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
)


def _environment_proxies() -> dict[str, str]:
    """
    Return what :func:`urllib.request.getproxies_environment` returns.

    The standard library decodes every environment variable, twice; only ``*_proxy`` ones
    matter, and on POSIX their names can be picked from the raw environment first.
    """
    variables = [
        (os.fsdecode(name), os.fsdecode(os.environb[name]))
        for name in os.environb
        if name[-6:].lower() == b"_proxy"
    ]
    proxies: dict[str, str] = {}
    # Any case first, then all-lowercase names win; a CGI script ignores HTTP_PROXY.
    for name, value in variables:
        if value:
            proxies[name[:-6].lower()] = value
    if "REQUEST_METHOD" in os.environ:
        proxies.pop("http", None)
    for name, value in variables:
        if name[-6:] == "_proxy":
            if value:
                proxies[name[:-6].lower()] = value
            else:
                proxies.pop(name[:-6].lower(), None)
    return proxies


def get_proxy(uri: WebSocketURI) -> str | None:
    """
    Return the proxy configured for ``uri`` in the environment or the system, if any.

    ``no_proxy`` bypasses it. A ``wss``/``ws`` proxy wins, then SOCKS, then HTTPS, then (for
    ``ws`` only) HTTP; a system SOCKS proxy given as ``http://`` means ``socks5h://``.
    """
    host = f"{uri.host}:{uri.port}"
    if _PROXIES_FROM_ENVIRONMENT:
        proxies = _environment_proxies()
        bypass = _proxy_bypass_environment(host, proxies)
    else:
        proxies = urllib.request.getproxies()
        bypass = urllib.request.proxy_bypass(host)
    if bypass:
        return None
    schemes = ("wss", "socks", "https") if uri.secure else ("ws", "socks", "https", "http")
    for scheme in schemes:
        proxy = proxies.get(scheme)
        if proxy is None:
            continue
        if scheme == "socks" and proxy.startswith("http://"):
            return "socks5h://" + proxy.removeprefix("http://")
        return proxy
    return None
