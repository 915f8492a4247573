"""Proxy addresses, as in ``websockets.proxy``: parsing them, and finding one for a URI."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable

from .exceptions import InvalidProxy
from .uri import Credentials, WebSocketURI, credentials, is_iri

__all__ = ["Proxy", "get_proxy", "parse_proxy"]

PROXY_SCHEMES = ("socks5h", "socks5", "socks4a", "socks4", "https", "http")


@dataclasses.dataclass
class Proxy(Credentials):
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
    username, password = credentials(parsed, functools.partial(InvalidProxy, proxy))
    host = parsed.hostname
    if is_iri(proxy):
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
    else:  # pragma: no cover - macOS and Windows only: system settings, not the environment
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
