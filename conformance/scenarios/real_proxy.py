"""connect() through a real proxy: pproxy, over TLS too, to the server target or a raw server.

pproxy (see :mod:`._proxies`) serves HTTP, SOCKS4 and SOCKS5, open to all or asking for
credentials (``user:pass``; the user id ``alice`` for SOCKS4), and HTTP over TLS with a
certificate of the trustme authority of :mod:`.tls` for 127.0.0.1 and localhost. Nothing
listens on the port of a proxy that is down. The server target echoes a message over ws://, or
over wss:// with the certificate of :mod:`.tls`; the trace holds what the client got.
"""

from __future__ import annotations

import asyncio
import re
import socket
from typing import Any

from ..scenario import Pair, family
from ._proxies import CLOSED, pproxy_port
from ._shapes import echo
from .handshake_bytes_client import body_of, failure, refuse
from .proxy_options import proxy_environment, verification
from .tls import pem, server_context, trusting_context

USER, PASSWORD, USER_ID = "user", "pass", "alice"
CREDENTIALS = f"{USER}:{PASSWORD}@"
HOSTS = {"ip": "127.0.0.1", "name": "localhost"}
BOTH = list(HOSTS)
BODY_SIZE = 256 * 400

# Placeholders of proxy addresses: the pproxy settings whose port replaces them.
PPROXIES: dict[str, tuple[str, str | None, bool]] = {
    "open": ("http+socks4+socks5", None, False),
    "auth": ("http+socks5", f"{USER}:{PASSWORD}", False),
    "socks4": ("socks4", USER_ID, False),
    "tls": ("http+ssl", None, True),
    "tls_auth": ("http+ssl", f"{USER}:{PASSWORD}", True),
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


async def address(template: str) -> str:
    """``template`` with each ``{name}`` replaced by the port of the pproxy of :data:`PPROXIES`
    it names, started if needed, and ``{down}`` by :data:`CLOSED`, an address and port."""
    ports: dict[str, str] = {"down": CLOSED}
    for name in set(PLACEHOLDER.findall(template)) - ports.keys():
        schemes, auth, tls = PPROXIES[name]
        ports[name] = str(await pproxy_port(schemes, auth, pem() if tls else None))
    url = template.format(**ports)
    # Proxies are on 127.0.0.1 only.
    assert "://" not in url or url.partition("://")[2].rpartition("@")[2].startswith(
        "127.0.0.1:"
    ), url
    return url


def keywords(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with ``"trusting"`` replaced by a context trusting the trustme authority."""
    return {key: trusting_context() if value == "trusting" else value
            for key, value in kwargs.items()}


async def exchange(pair: Pair, uri: str, **kwargs: Any) -> Any:
    """Connect to the echo server at ``uri`` and exchange a message: the outcome."""

    async def run() -> Any:
        async with pair.connect(uri, **kwargs) as ws:
            await ws.send("hello")
            return {"echo": await ws.recv()}

    try:
        async with asyncio.timeout(pair.timeout):
            return {"result": await run()}
    except Exception as exc:
        return verification(exc)


# Each scheme of pproxy, with and without credentials, and a proxy that isn't running.

PPROXY_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"real-proxy.{name}", title, {"proxy": proxy, "hosts": hosts})
    for name, title, proxy, hosts in [
        ("http", "an http:// proxy", "http://127.0.0.1:{open}", BOTH),
        ("socks4", "a socks4:// proxy", "socks4://127.0.0.1:{open}", BOTH),
        # pproxy doesn't implement SOCKS4a's names: it connects to 0.0.0.1, which fails or
        # hangs. proxy-options.socks4a checks the name the client sends.
        ("socks4a", "a socks4a:// proxy, to the server's address",
         "socks4a://127.0.0.1:{open}", ["ip"]),
        ("socks5", "a socks5:// proxy", "socks5://127.0.0.1:{open}", BOTH),
        ("socks5h", "a socks5h:// proxy", "socks5h://127.0.0.1:{open}", BOTH),
        ("http-credentials", "an http:// proxy with its credentials",
         f"http://{CREDENTIALS}127.0.0.1:{{auth}}", BOTH),
        ("http-wrong-credentials", "an http:// proxy with wrong credentials",
         "http://user:wrong@127.0.0.1:{auth}", BOTH),
        ("http-no-credentials", "an http:// proxy asking for credentials, given none",
         "http://127.0.0.1:{auth}", BOTH),
        ("socks5-credentials", "a socks5:// proxy with its credentials",
         f"socks5://{CREDENTIALS}127.0.0.1:{{auth}}", BOTH),
        ("socks5h-credentials", "a socks5h:// proxy with its credentials",
         f"socks5h://{CREDENTIALS}127.0.0.1:{{auth}}", BOTH),
        ("socks5-wrong-credentials", "a socks5:// proxy with wrong credentials",
         "socks5://user:wrong@127.0.0.1:{auth}", BOTH),
        ("socks5-no-credentials", "a socks5:// proxy asking for credentials, given none",
         "socks5://127.0.0.1:{auth}", BOTH),
        ("socks4-user-id", "a socks4:// proxy with its user id",
         f"socks4://{USER_ID}:x@127.0.0.1:{{socks4}}", BOTH),
        ("socks4-wrong-user-id", "a socks4:// proxy with another user id",
         "socks4://mallory:x@127.0.0.1:{socks4}", BOTH),
        ("socks4-no-user-id", "a socks4:// proxy asking for a user id, given none",
         "socks4://127.0.0.1:{socks4}", BOTH),
        ("http-down", "an http:// proxy that isn't running", "http://{down}", BOTH),
        ("socks4-down", "a socks4:// proxy that isn't running", "socks4://{down}", BOTH),
        ("socks5-down", "a socks5:// proxy that isn't running", "socks5://{down}", BOTH),
        ("socks5h-down", "a socks5h:// proxy that isn't running", "socks5h://{down}", BOTH),
    ]
]


@family("proxy-tls", PPROXY_CASES, seed="proxy-tls")
async def pproxy(pair: Pair, proxy: str, hosts: list[str]) -> Any:
    """connect() to the server by IP address and by name through pproxy: the outcomes."""
    url = await address(proxy)
    async with pair.serving(echo) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        return {name: await exchange(pair, f"ws://{HOSTS[name]}:{port}/", proxy=url)
                for name in hosts}


# The environment: proxy=True reads *_proxy and no_proxy; proxy=None or an address overrides.

ENVIRONMENT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"real-proxy.env-{name}", title, {"env": env, "proxy": proxy})
    for name, title, env, proxy in [
        ("http", "http_proxy names an open pproxy", {"http_proxy": "http://127.0.0.1:{open}"},
         True),
        ("http-rejects", "http_proxy names a pproxy asking for credentials",
         {"http_proxy": "http://127.0.0.1:{auth}"}, True),
        ("https-rejects", "https_proxy names a pproxy asking for credentials",
         {"https_proxy": "http://127.0.0.1:{auth}"}, True),
        ("ws-socks5-rejects", "ws_proxy names a SOCKS5 pproxy asking for credentials",
         {"ws_proxy": "socks5://127.0.0.1:{auth}"}, True),
        ("socks-down", "socks_proxy names a SOCKS4 proxy that isn't running",
         {"socks_proxy": "socks4://{down}"}, True),
        ("socks-as-http", "socks_proxy=http://... reaches pproxy over SOCKS5",
         {"socks_proxy": "http://127.0.0.1:{open}"}, True),
        ("no-proxy-ip", "no_proxy names the server's address",
         {"http_proxy": "http://{down}", "no_proxy": "127.0.0.1"}, True),
        ("no-proxy-uppercase-star", "NO_PROXY=* bypasses the proxy",
         {"http_proxy": "http://{down}", "NO_PROXY": "*"}, True),
        ("proxy-none", "proxy=None ignores http_proxy", {"http_proxy": "http://{down}"}, None),
        ("explicit-socks5", "an explicit socks5:// proxy wins over http_proxy",
         {"http_proxy": "http://{down}"}, "socks5://127.0.0.1:{open}"),
    ]
]


@family("proxy-tls", ENVIRONMENT_CASES, seed="proxy-tls")
async def environment(pair: Pair, env: dict[str, str], proxy: str | bool | None) -> Any:
    """connect() with proxy settings in the environment, to the server through pproxy."""
    values = {name: await address(value) for name, value in env.items()}
    if isinstance(proxy, str):
        proxy = await address(proxy)
    async with pair.serving(echo) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        with proxy_environment(values):
            return await exchange(pair, f"ws://127.0.0.1:{port}/", proxy=proxy)


# HTTPS proxies and the proxy_* keywords: TLS to the proxy, then to a wss:// server inside the
# tunnel; the proxy_* keywords configure the connection to an HTTP proxy.

HTTPS_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"real-proxy.{name}", title, {"proxy": proxy, "kwargs": kwargs})
    for name, title, proxy, kwargs in [
        ("https", "an https:// proxy with proxy_ssl trusting its certificate",
         "https://127.0.0.1:{tls}", {"proxy_ssl": "trusting"}),
        ("https-default-ssl", "an https:// proxy verified by default: unknown authority",
         "https://127.0.0.1:{tls}", {}),
        ("https-proxy-ssl-true", "an https:// proxy with proxy_ssl=True: unknown authority",
         "https://127.0.0.1:{tls}", {"proxy_ssl": True}),
        ("https-proxy-ssl-none", "an https:// proxy with proxy_ssl=None",
         "https://127.0.0.1:{tls}", {"proxy_ssl": None}),
        ("https-proxy-server-hostname", "proxy_server_hostname names the https:// proxy",
         "https://127.0.0.1:{tls}",
         {"proxy_ssl": "trusting", "proxy_server_hostname": "localhost"}),
        ("https-wrong-proxy-server-hostname",
         "a proxy_server_hostname the https:// proxy's certificate doesn't name",
         "https://127.0.0.1:{tls}",
         {"proxy_ssl": "trusting", "proxy_server_hostname": "example.org"}),
        ("https-proxy-ssl-timeouts", "proxy_ssl_handshake_timeout and proxy_ssl_shutdown_timeout",
         "https://127.0.0.1:{tls}",
         {"proxy_ssl": "trusting", "proxy_ssl_handshake_timeout": 5,
          "proxy_ssl_shutdown_timeout": 5}),
        ("https-proxy-family", "proxy_family=AF_INET6 for an https:// proxy at 127.0.0.1",
         "https://127.0.0.1:{tls}", {"proxy_ssl": "trusting", "proxy_family": socket.AF_INET6}),
        ("https-family", "family=AF_INET applies to the https:// proxy connection",
         "https://127.0.0.1:{tls}", {"proxy_ssl": "trusting", "family": socket.AF_INET}),
        ("https-unknown-keyword", "a proxy_* keyword the event loop doesn't take",
         "https://127.0.0.1:{tls}", {"proxy_ssl": "trusting", "proxy_bogus": 1}),
        ("https-credentials", "an https:// proxy with its credentials",
         f"https://{CREDENTIALS}127.0.0.1:{{tls_auth}}", {"proxy_ssl": "trusting"}),
        ("https-no-credentials", "an https:// proxy asking for credentials, given none",
         "https://127.0.0.1:{tls_auth}", {"proxy_ssl": "trusting"}),
        ("https-wrong-credentials", "an https:// proxy with wrong credentials",
         "https://user:wrong@127.0.0.1:{tls_auth}", {"proxy_ssl": "trusting"}),
        ("https-down", "an https:// proxy that isn't running", "https://{down}",
         {"proxy_ssl": "trusting"}),
        ("https-plain-proxy", "an https:// URL for a proxy that doesn't speak TLS",
         "https://127.0.0.1:{open}", {"proxy_ssl": "trusting"}),
        ("http-to-tls-proxy", "an http:// URL for a proxy that speaks TLS",
         "http://127.0.0.1:{tls}", {}),
        ("http-proxy-ssl", "proxy_ssl with an http:// proxy",
         "http://127.0.0.1:{open}", {"proxy_ssl": "trusting"}),
        ("http-proxy-server-hostname", "proxy_server_hostname with an http:// proxy",
         "http://127.0.0.1:{open}", {"proxy_server_hostname": "localhost"}),
    ]
]


@family("proxy-tls", HTTPS_CASES, seed="proxy-tls")
async def https(pair: Pair, proxy: str, kwargs: dict[str, Any]) -> Any:
    """connect() to a ws:// and to a wss:// server through pproxy with proxy_* keywords."""
    url = await address(proxy)
    outcomes = {}
    for scheme, tls in (("ws", None), ("wss", server_context())):
        options = keywords(kwargs)
        if tls is not None:
            options["ssl"] = trusting_context()
        async with pair.serving(echo, ssl=tls) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            outcomes[scheme] = await exchange(
                pair, f"{scheme}://localhost:{port}/", proxy=url, **options
            )
    return outcomes


UNTRUSTED_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"real-proxy.wss-untrusted-{scheme}",
     f"TLS to the server inside an {scheme}:// proxy's tunnel verifies its certificate",
     {"proxy": f"{scheme}://127.0.0.1:{{{'tls' if scheme == 'https' else 'open'}}}"})
    for scheme in ("http", "https")
]


@family("proxy-tls", UNTRUSTED_CASES, seed="proxy-tls")
async def wss_untrusted(pair: Pair, proxy: str) -> Any:
    """wss:// through pproxy to a server of an unknown authority, then of another name, then
    trusted: the last exchange also lets the server see the end of the failed handshakes."""
    url = await address(proxy)
    kwargs: dict[str, Any] = {"proxy_ssl": trusting_context()} if url.startswith("https:") else {}
    async with pair.serving(echo, ssl=server_context()) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        uri = f"wss://localhost:{port}/"
        return {
            "untrusted": await exchange(pair, uri, proxy=url, **kwargs),
            "wrong-name": await exchange(
                pair, uri, proxy=url, ssl=trusting_context(), server_hostname="example.org",
                **kwargs,
            ),
            "trusted": await exchange(pair, uri, proxy=url, ssl=trusting_context(), **kwargs),
        }


# Without an HTTP proxy, the proxy_* keywords go to the event loop, which refuses them.

KEYWORD_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"real-proxy.kwargs-{name}", title, {"proxy": proxy, "kwargs": kwargs})
    for name, title, proxy, kwargs in [
        ("direct", "proxy_ssl without a proxy", None, {"proxy_ssl": True}),
        ("unix", "proxy_ssl with unix=True",
         None, {"unix": True, "path": "/nonexistent", "proxy_ssl": True}),
        ("socks-down", "proxy_ssl with a SOCKS proxy that isn't running",
         "socks5h://{down}", {"proxy_ssl": True}),
    ]
]


@family("proxy-tls", KEYWORD_CASES, seed="proxy-tls")
async def kwargs_without_http_proxy(pair: Pair, proxy: str | None, kwargs: dict[str, Any]) -> Any:
    """connect() without an HTTP proxy, with keywords meant for the connection to one."""
    url = None if proxy is None else await address(proxy)
    async with pair.serving(echo) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        return await exchange(pair, f"ws://127.0.0.1:{port}/", proxy=url, **kwargs)


SERVER_DOWN_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"real-proxy.{scheme}-server-down",
     f"a {scheme}:// pproxy grants the tunnel to a server that isn't running, then closes it",
     {"scheme": scheme})
    for scheme in ("socks4", "socks5", "socks5h")
]


# Not on uvloop: there, websockets sometimes sees the end of the tunnel before it reads the
# response (ConnectionClosedError rather than InvalidMessage).
@family("connect", SERVER_DOWN_CASES, sides="client")
async def server_down(pair: Pair, scheme: str) -> Any:
    """connect() through pproxy to a server that isn't running."""
    url = await address(f"{scheme}://127.0.0.1:{{open}}")
    return await exchange(pair, f"ws://{CLOSED}/", proxy=url)


@family(
    "proxy-tls",
    [("real-proxy.http-refusal-body",
      f"through an http:// pproxy, the server refuses with a {BODY_SIZE}-byte body", {})],
    seed="proxy-tls",
    sides="client",
)
async def refusal_body(pair: Pair) -> Any:
    """A refused ws:// connection through pproxy gets the whole body of the refusal."""
    url = await address("http://127.0.0.1:{open}")
    body = body_of(BODY_SIZE)
    rest = b"Content-Length: %d\r\n" % len(body)
    async with pair.serve_raw(respond=refuse(extra=rest, rest=body)) as server:
        try:
            async with asyncio.timeout(pair.timeout), pair.connect(server.url, proxy=url):
                return {"result": "connected"}
        except Exception as exc:
            return failure(exc, body)
