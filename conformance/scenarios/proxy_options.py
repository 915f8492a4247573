"""connect() through a proxy: URLs, the environment, keywords for the proxy and for TLS.

A raw HTTP or HTTPS proxy (see :mod:`.proxy`) grants the tunnel and plays the server inside it,
over TLS for wss:// URIs; a relaying HTTP proxy (:func:`._proxies.relay`) tunnels to the server
target instead. The environment is changed only inside a scenario, to addresses on
127.0.0.1, and restored after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from ..raw import OP_TEXT, RawConnection, RawServer, default_response
from ..scenario import Pair, family
from ._proxies import relay, tcp_server
from ._shapes import echo
from .handshake_bytes_client import failure
from .proxy import GRANTED, _request, accept_and_greet, causes
from .tls import secure_exchange, server_context, trusting_context

# Never resolved: the raw proxy plays this server.
SERVER = "ws://example.com/"
SECURE_SERVER = "wss://example.com/"
# Nothing listens there: a connection to it is refused at once.
CLOSED = "127.0.0.1:9"


async def greet(conn: RawConnection) -> None:
    """Greet a client whose upgrade was accepted, then finish the closing handshake."""
    await conn.send_frame(OP_TEXT, b"hello directly")
    await conn.close_handshake()


async def tls_accept_and_greet(conn: RawConnection) -> None:
    """Start TLS as the server inside the tunnel, then accept and greet; give up if TLS fails."""
    try:
        await asyncio.wait_for(conn.writer.start_tls(server_context()), conn.timeout)
    except (OSError, TimeoutError, ssl.SSLError):
        return
    await accept_and_greet(conn)


def verification(exc: BaseException) -> Any:
    """Stable parts of a failure: the exception, its cause, and certificate details."""
    data = failure(exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        data["verify_code"] = exc.verify_code
        data["reason"] = exc.reason
    return data


async def opening(pair: Pair, uri: str, chain: bool = False, **kwargs: Any) -> Any:
    """Connect to ``uri``, receive one message and close: the outcome, with the whole chain of
    causes of a failure if ``chain``."""

    async def run() -> Any:
        async with pair.connect(uri, **kwargs) as ws:
            return {"recv": await ws.recv()}

    try:
        async with asyncio.timeout(pair.timeout):
            return {"result": await run()}
    except Exception as exc:
        data = verification(exc)
        if chain:
            data["chain"] = causes(exc)
        return data


def proxy_port(proxy: RawServer) -> int:
    """The port a raw proxy listens on."""
    return int(proxy.url.rpartition(":")[2].rstrip("/"))


def requests_of(proxy: RawServer) -> list[Any]:
    """The CONNECT requests a raw proxy read, default User-Agent values blanked."""
    return [_request(request, True) for request in proxy.requests]


# Keywords split between the proxy and the server.

KWARG_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("proxy-options.http-proxy-ssl", "proxy_ssl with an http:// proxy is refused",
     {"scheme": "http", "kwargs": {"proxy_ssl": "trusting"}}),
    ("proxy-options.http-proxy-ssl-true", "proxy_ssl=True with an http:// proxy is refused",
     {"scheme": "http", "kwargs": {"proxy_ssl": True}}),
    ("proxy-options.http-proxy-ssl-none", "proxy_ssl=None with an http:// proxy is allowed",
     {"scheme": "http", "kwargs": {"proxy_ssl": None}}),
    ("proxy-options.https-proxy-ssl-none", "proxy_ssl=None with an https:// proxy is refused",
     {"scheme": "https", "kwargs": {"proxy_ssl": None}}),
    ("proxy-options.https-proxy-default-ssl",
     "an https:// proxy without proxy_ssl verifies its certificate by default",
     {"scheme": "https", "kwargs": {}}),
    ("proxy-options.https-proxy-ssl-true", "proxy_ssl=True verifies against the system store",
     {"scheme": "https", "kwargs": {"proxy_ssl": True}}),
    ("proxy-options.http-proxy-server-hostname", "proxy_server_hostname without TLS to the proxy",
     {"scheme": "http", "kwargs": {"proxy_server_hostname": "localhost"}}),
    ("proxy-options.https-proxy-server-hostname", "proxy_server_hostname names the https proxy",
     {"scheme": "https",
      "kwargs": {"proxy_ssl": "trusting", "proxy_server_hostname": "localhost"}}),
    ("proxy-options.https-proxy-wrong-hostname",
     "a proxy_server_hostname the proxy's certificate doesn't name",
     {"scheme": "https",
      "kwargs": {"proxy_ssl": "trusting", "proxy_server_hostname": "example.com"}}),
    ("proxy-options.https-proxy-handshake-timeout", "proxy_ssl_handshake_timeout is accepted",
     {"scheme": "https", "kwargs": {"proxy_ssl": "trusting", "proxy_ssl_handshake_timeout": 1}}),
    ("proxy-options.http-proxy-local-addr", "local_addr and family go to the proxy connection",
     {"scheme": "http",
      "kwargs": {"local_addr": ("127.0.0.1", 0), "family": socket.AF_INET}}),
    ("proxy-options.http-proxy-prefixed-local-addr", "proxy_local_addr and proxy_family",
     {"scheme": "http",
      "kwargs": {"proxy_local_addr": ("127.0.0.1", 0), "proxy_family": socket.AF_INET}}),
    ("proxy-options.http-proxy-wrong-family", "family=AF_INET6 for a proxy at 127.0.0.1",
     {"scheme": "http", "kwargs": {"family": socket.AF_INET6}}),
    ("proxy-options.http-proxy-unknown-kwarg", "a keyword the event loop doesn't take",
     {"scheme": "http", "kwargs": {"proxy_colour": "blue"}}),
    ("proxy-options.http-proxy-ssl-kwarg-ws", "ssl_handshake_timeout with a ws:// URI",
     {"scheme": "http", "kwargs": {"ssl_handshake_timeout": 1}}),
]

SECURE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("proxy-options.wss-http-proxy", "wss:// through an http:// proxy with a trusting ssl",
     {"scheme": "http", "kwargs": {"ssl": "trusting", "server_hostname": "localhost"}}),
    ("proxy-options.wss-http-proxy-default-ssl",
     "wss:// through an http:// proxy verifies the server by default",
     {"scheme": "http", "kwargs": {"server_hostname": "localhost"}}),
    ("proxy-options.wss-http-proxy-ssl-true", "wss:// through a proxy with ssl=True",
     {"scheme": "http", "kwargs": {"ssl": True, "server_hostname": "localhost"}}),
    ("proxy-options.wss-http-proxy-hostname-mismatch",
     "wss:// through a proxy checks the URI's host name against the certificate",
     {"scheme": "http", "kwargs": {"ssl": "trusting"}}),
    ("proxy-options.wss-http-proxy-ssl-false", "wss:// through a proxy with ssl=False",
     {"scheme": "http", "kwargs": {"ssl": False}}),
    ("proxy-options.wss-http-proxy-ssl-none", "wss:// through a proxy with ssl=None",
     {"scheme": "http", "kwargs": {"ssl": None}}),
    ("proxy-options.wss-http-proxy-handshake-timeout",
     "ssl_handshake_timeout goes to TLS with the server",
     {"scheme": "http",
      "kwargs": {"ssl": "trusting", "server_hostname": "localhost", "ssl_handshake_timeout": 1}}),
    ("proxy-options.wss-https-proxy", "wss:// through an https:// proxy: TLS in TLS",
     {"scheme": "https", "kwargs": {"ssl": "trusting", "server_hostname": "localhost",
                                    "proxy_ssl": "trusting"}}),
    ("proxy-options.wss-https-proxy-ssl-false", "wss:// through an https:// proxy with ssl=False",
     {"scheme": "https", "kwargs": {"ssl": False, "proxy_ssl": "trusting"}}),
]


def resolved(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with "trusting" replaced by a context trusting the raw peers' certificates."""
    return {key: trusting_context() if value == "trusting" else value
            for key, value in kwargs.items()}


async def through(pair: Pair, uri: str, scheme: str, kwargs: dict[str, Any]) -> Any:
    """Connect to ``uri`` through a raw ``scheme`` proxy with ``kwargs``."""
    secure = scheme == "https"
    tunnel = tls_accept_and_greet if uri.startswith("wss:") else accept_and_greet
    async with RawServer(
        tunnel, lambda request: GRANTED, pair.timeout, ssl=server_context() if secure else None
    ) as proxy:
        url = f"{scheme}://127.0.0.1:{proxy_port(proxy)}"
        outcome = await opening(pair, uri, proxy=url, **resolved(kwargs))
    return {"outcome": outcome, "requests": requests_of(proxy)}


@family("proxy-tls", KWARG_CASES, seed="proxy-tls", sides="client")
async def proxy_kwargs(pair: Pair, scheme: str, kwargs: dict[str, Any]) -> Any:
    """connect() to a ws:// URI through a raw proxy with keywords for the proxy."""
    return await through(pair, SERVER, scheme, kwargs)


@family("proxy-tls", SECURE_CASES, seed="proxy-tls", sides="client")
async def secure_through_proxy(pair: Pair, scheme: str, kwargs: dict[str, Any]) -> Any:
    """connect() to a wss:// URI through a raw proxy: TLS to the server inside the tunnel."""
    return await through(pair, SECURE_SERVER, scheme, kwargs)


# Keywords for TLS to the server target, through a proxy relaying to it. Its certificate names
# localhost only; the client trusts its authority unless told otherwise.

RELAYED_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("proxy-options.relayed-server-hostname",
     "wss:// to an address through a relaying proxy, server_hostname naming the certificate's host",
     {"uri": "wss://127.0.0.1:{port}/", "kwargs": {"server_hostname": "localhost"}}),
    ("proxy-options.relayed-ssl-handshake-timeout",
     "wss:// through a relaying proxy with server_hostname and ssl_handshake_timeout",
     {"uri": "wss://127.0.0.1:{port}/",
      "kwargs": {"server_hostname": "localhost", "ssl_handshake_timeout": 10.0}}),
    ("proxy-options.relayed-wrong-server-hostname",
     "wss:// through a relaying proxy, server_hostname naming a host the certificate doesn't",
     {"uri": "wss://127.0.0.1:{port}/", "kwargs": {"server_hostname": "example.com"}}),
    ("proxy-options.relayed-address",
     "wss:// through a relaying proxy to an address the certificate doesn't name",
     {"uri": "wss://127.0.0.1:{port}/", "kwargs": {}}),
    ("proxy-options.relayed-unknown-ssl-keyword-wss",
     "wss:// through a relaying proxy: another ssl* keyword goes to start_tls(), which refuses it",
     {"uri": "wss://localhost:{port}/", "kwargs": {"ssl_other": True}}),
    ("proxy-options.relayed-unknown-ssl-keyword-ws",
     "ws:// through a relaying proxy: another ssl* keyword, with no TLS to the server",
     {"uri": "ws://127.0.0.1:{port}/", "kwargs": {"ssl_other": True}}),
]


@family("proxy-tls", RELAYED_CASES, seed="proxy-tls")
async def relayed(pair: Pair, uri: str, kwargs: dict[str, Any]) -> Any:
    """connect() through an HTTP proxy tunnelling to the echo server target, over TLS for
    wss://: the echo or the error, and the tunnels asked for."""
    secure = uri.startswith("wss:")
    options: dict[str, Any] = {"ssl": server_context("localhost")} if secure else {}
    targets: list[str] = []
    async with pair.serving(echo, **options) as server, tcp_server(relay(targets)) as proxy:
        port = next(iter(server.sockets)).getsockname()[1]
        tls = {"ssl": "trusting"} if secure else {}
        outcome = await secure_exchange(
            pair, uri.format(port=port), proxy=f"http://127.0.0.1:{proxy}", **tls, **kwargs
        )
    return {"outcome": outcome, "tunnels": [target.replace(f":{port}", ":PORT")
                                            for target in targets]}


# Proxy URLs.

ANSWER_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"proxy-options.answer-{name}", f"the proxy answers CONNECT with {line!r}",
     {"answer": line + b"\r\n\r\n"})
    for name, line in [
        ("http-2", b"HTTP/2.0 200 OK"),
        ("http-1.2", b"HTTP/1.2 200 OK"),
        ("http-0.9", b"HTTP/0.9 200 OK"),
        ("icy", b"ICY 200 OK"),
        ("lowercase", b"http/1.1 200 OK"),
    ]
]


@family("proxy-tls", ANSWER_CASES, seed="proxy-tls", sides="client")
async def proxy_answer(pair: Pair, answer: bytes) -> Any:
    """The proxy answers with an unsupported protocol in its status line."""
    async with RawServer(None, lambda request: answer, pair.timeout) as proxy:
        outcome = await opening(pair, SERVER, proxy=f"http://127.0.0.1:{proxy_port(proxy)}")
    return {"outcome": outcome, "requests": len(proxy.requests)}


CREDENTIAL_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("proxy-options.credentials-non-ascii", "non-ASCII credentials in the proxy URL",
     {"userinfo": "\u00fcser:p\u00e4ss\u20ac"}),
    ("proxy-options.credentials-percent-utf8", "percent-encoded UTF-8 credentials",
     {"userinfo": "%C3%BCser:p%C3%A4ss"}),
    ("proxy-options.credentials-empty-password", "a user with an empty password",
     {"userinfo": "user:"}),
    ("proxy-options.credentials-colon-password", "a password with an encoded colon",
     {"userinfo": "user:a%3Ab:c"}),
]


@family("proxy-tls", CREDENTIAL_CASES, seed="proxy-tls", sides="client")
async def proxy_credentials(pair: Pair, userinfo: str) -> Any:
    """Credentials in the proxy URL become a Proxy-Authorization header."""
    async with RawServer(accept_and_greet, lambda request: GRANTED, pair.timeout) as proxy:
        url = f"http://{userinfo}@127.0.0.1:{proxy_port(proxy)}"
        outcome = await opening(pair, SERVER, proxy=url)
    return {"outcome": outcome, "requests": requests_of(proxy)}


# The environment: proxy=True.


@contextlib.contextmanager
def proxy_environment(values: dict[str, str]) -> Iterator[None]:
    """Replace every ``*_proxy`` environment variable with ``values``, then restore them."""
    saved = {name: value for name, value in os.environ.items()
             if name.lower().endswith("_proxy")}
    for name in saved:
        del os.environ[name]
    os.environ.update(values)
    try:
        yield
    finally:
        for name in [name for name in os.environ if name.lower().endswith("_proxy")]:
            del os.environ[name]
        os.environ.update(saved)


ENVIRONMENT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("proxy-options.env-http", "http_proxy is used for ws://", {"env": {"http_proxy": "{proxy}"}}),
    ("proxy-options.env-http-uppercase", "HTTP_PROXY is used for ws://",
     {"env": {"HTTP_PROXY": "{proxy}"}}),
    ("proxy-options.env-https-before-http", "https_proxy wins over http_proxy for ws://",
     {"env": {"https_proxy": "{proxy}", "http_proxy": f"http://{CLOSED}"}}),
    ("proxy-options.env-ws-first", "ws_proxy wins over every other proxy",
     {"env": {"ws_proxy": "{proxy}", "https_proxy": f"http://{CLOSED}",
              "http_proxy": f"http://{CLOSED}"}}),
    ("proxy-options.env-credentials", "credentials in http_proxy",
     {"env": {"http_proxy": "{proxy_with_credentials}"}}),
    ("proxy-options.env-no-proxy-host", "no_proxy naming the server's host bypasses the proxy",
     {"env": {"http_proxy": "{proxy}", "no_proxy": "example.org,127.0.0.1"},
      "direct": True}),
    ("proxy-options.env-no-proxy-star", "no_proxy=* bypasses the proxy",
     {"env": {"http_proxy": "{proxy}", "no_proxy": "*"}, "direct": True}),
    ("proxy-options.env-no-proxy-other", "no_proxy naming another host keeps the proxy",
     {"env": {"http_proxy": "{proxy}", "no_proxy": "example.org"}}),
    ("proxy-options.env-proxy-none", "proxy=None ignores http_proxy",
     {"env": {"http_proxy": "{proxy}"}, "direct": True, "kwargs": {"proxy": None}}),
    ("proxy-options.env-proxy-explicit", "an explicit proxy wins over http_proxy",
     {"env": {"http_proxy": f"http://{CLOSED}"}, "kwargs": {"proxy": "{proxy}"}}),
    ("proxy-options.env-socks-http-invalid", "socks_proxy=http://... becomes socks5h://",
     {"env": {"socks_proxy": f"http://{CLOSED}/path", "http_proxy": "{proxy}"}}),
    ("proxy-options.env-invalid", "an invalid http_proxy fails the connection",
     {"env": {"http_proxy": "ftp://127.0.0.1:21"}}),
    ("proxy-options.env-wss-ignores-http", "http_proxy isn't used for wss://",
     {"env": {"http_proxy": f"http://{CLOSED}"}, "direct": True, "secure": True}),
    ("proxy-options.env-wss-https", "https_proxy is used for wss://",
     {"env": {"https_proxy": "{proxy}"}, "secure": True}),
    ("proxy-options.env-wss-socks-http-invalid", "socks_proxy=http://... for wss://",
     {"env": {"socks_proxy": f"http://{CLOSED}#x", "https_proxy": "{proxy}"},
      "secure": True}),
]


@family("proxy-tls", ENVIRONMENT_CASES, seed="proxy-tls", sides="client")
async def proxy_from_environment(
    pair: Pair,
    env: dict[str, str],
    direct: bool = False,
    secure: bool = False,
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """proxy=True (the default) reads the environment; a direct connection reaches a server."""
    tunnel = tls_accept_and_greet if secure else accept_and_greet
    tls = server_context() if secure else None
    async with RawServer(tunnel, lambda request: GRANTED, pair.timeout) as proxy, RawServer(
        greet, default_response, pair.timeout, ssl=tls
    ) as server:
        port = proxy_port(server)
        proxy_url = f"http://127.0.0.1:{proxy_port(proxy)}"
        values = {
            "{proxy}": proxy_url,
            "{proxy_with_credentials}": proxy_url.replace("//", "//user:pass@"),
        }
        options: dict[str, Any] = {
            key: values.get(value, value) if isinstance(value, str) else value
            for key, value in (kwargs or {}).items()
        }
        if secure:
            options.update(ssl=trusting_context(), server_hostname="localhost")
        scheme = "wss" if secure else "ws"
        uri = f"{scheme}://127.0.0.1:{port}/" if direct else f"{scheme}://example.com/"
        with proxy_environment({name: values.get(value, value) for name, value in env.items()}):
            outcome = await opening(pair, uri, **options)
    return {"outcome": outcome, "requests": requests_of(proxy)}


# SOCKS proxies, through python-socks on both sides.


class SocksProxy:
    """A raw SOCKS4 or SOCKS5 proxy on 127.0.0.1 that records what the client asked.

    It grants the connection with ``reply`` (SOCKS5 reply code; SOCKS4 grants on 0), checking
    ``credentials`` when the client offers them, then runs ``tunnel`` as the server.
    """

    def __init__(
        self,
        pair: Pair,
        tunnel: Callable[[RawConnection], Awaitable[None]] = accept_and_greet,
        reply: int = 0,
    ) -> None:
        self.pair = pair
        self.tunnel = tunnel
        self.reply = reply
        self.asked: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def _socks5(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        count = (await reader.readexactly(1))[0]
        methods = list(await reader.readexactly(count))
        asked: dict[str, Any] = {"version": 5, "methods": methods}
        if 2 in methods:
            writer.write(b"\x05\x02")
            await reader.readexactly(1)
            user = await reader.readexactly((await reader.readexactly(1))[0])
            password = await reader.readexactly((await reader.readexactly(1))[0])
            asked["credentials"] = [repr(user), repr(password)]
            writer.write(b"\x01\x00")
        else:
            writer.write(b"\x05\x00")
        _, command, _, kind = await reader.readexactly(4)
        if kind == 3:
            address = repr(await reader.readexactly((await reader.readexactly(1))[0]))
        else:
            address = socket.inet_ntop(
                socket.AF_INET if kind == 1 else socket.AF_INET6,
                await reader.readexactly(4 if kind == 1 else 16),
            )
        port = int.from_bytes(await reader.readexactly(2), "big")
        asked.update(command=command, address_type=kind, address=address, port=port)
        self.asked.append(asked)
        writer.write(bytes([5, self.reply, 0, 1]) + bytes(6))
        return self.reply == 0

    async def _socks4(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        command = (await reader.readexactly(1))[0]
        port = int.from_bytes(await reader.readexactly(2), "big")
        address = socket.inet_ntoa(await reader.readexactly(4))
        user = await reader.readuntil(b"\x00")
        asked: dict[str, Any] = {
            "version": 4, "command": command, "address": address, "port": port,
            "user": repr(user[:-1]),
        }
        if address.startswith("0.0.0.") and address != "0.0.0.0":
            asked["host"] = repr((await reader.readuntil(b"\x00"))[:-1])
        self.asked.append(asked)
        writer.write(bytes([0, 0x5A if self.reply == 0 else 0x5B]) + bytes(6))
        return self.reply == 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = RawConnection(reader, writer, None, self.pair.timeout)
        try:
            async with asyncio.timeout(self.pair.timeout):
                version = (await reader.readexactly(1))[0]
                socks = self._socks5 if version == 5 else self._socks4
                granted = await socks(reader, writer)
            if granted:
                await self.tunnel(conn)
        except Exception as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            await conn.aclose()

    async def __aenter__(self) -> SocksProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.pair.timeout):
                await self.server.wait_closed()


SOCKS_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("proxy-options.socks5h", "a socks5h:// proxy: the proxy resolves the server's name",
     {"proxy": "socks5h://127.0.0.1:{port}"}),
    ("proxy-options.socks5-ip", "a socks5:// proxy to a server given by its IPv4 address",
     {"proxy": "socks5://127.0.0.1:{port}", "uri": "ws://192.0.2.1:8080/x"}),
    ("proxy-options.socks5-ipv6", "a socks5:// proxy to a server given by its IPv6 address",
     {"proxy": "socks5://127.0.0.1:{port}", "uri": "ws://[2001:db8::1]/"}),
    ("proxy-options.socks5h-credentials", "credentials for a socks5h:// proxy",
     {"proxy": "socks5h://us%C3%A9r:p%40ss@127.0.0.1:{port}"}),
    ("proxy-options.socks5h-ascii-credentials", "percent-encoded ASCII credentials for socks5h",
     {"proxy": "socks5h://user:p%40ss%3A@127.0.0.1:{port}"}),
    ("proxy-options.socks4a", "a socks4a:// proxy", {"proxy": "socks4a://127.0.0.1:{port}"}),
    ("proxy-options.socks4-ip", "a socks4:// proxy to a server given by its address",
     {"proxy": "socks4://127.0.0.1:{port}", "uri": "ws://192.0.2.1/"}),
    ("proxy-options.socks4a-user", "a user name for a socks4a:// proxy",
     {"proxy": "socks4a://user:pass@127.0.0.1:{port}"}),
    ("proxy-options.socks5h-refused", "the socks5h:// proxy refuses the connection",
     {"proxy": "socks5h://127.0.0.1:{port}", "reply": 5}),
    ("proxy-options.socks4a-refused", "the socks4a:// proxy refuses the connection",
     {"proxy": "socks4a://127.0.0.1:{port}", "reply": 1}),
    ("proxy-options.socks5h-unreachable", "nothing listens where the SOCKS proxy should be",
     {"proxy": f"socks5h://{CLOSED}"}),
    ("proxy-options.socks5h-local-addr", "local_addr applies to the SOCKS proxy connection",
     {"proxy": "socks5h://127.0.0.1:{port}", "kwargs": {"local_addr": ("127.0.0.1", 0)}}),
    ("proxy-options.socks5h-proxy-kwarg", "a proxy_* keyword with a SOCKS proxy",
     {"proxy": "socks5h://127.0.0.1:{port}", "kwargs": {"proxy_ssl": True}}),
    ("proxy-options.socks5h-wss", "wss:// through a socks5h:// proxy",
     {"proxy": "socks5h://127.0.0.1:{port}", "uri": SECURE_SERVER,
      "kwargs": {"ssl": "trusting", "server_hostname": "localhost"}}),
    ("proxy-options.socks5h-wss-mismatch", "wss:// through a SOCKS proxy checks the host name",
     {"proxy": "socks5h://127.0.0.1:{port}", "uri": SECURE_SERVER, "kwargs": {"ssl": "trusting"}}),
    # Which of the client and the proxy resolves the server's name.
    ("proxy-options.socks4-name", "a socks4:// proxy: the client resolves the server's name",
     {"proxy": "socks4://127.0.0.1:{port}", "uri": "ws://localhost:8765/"}),
    ("proxy-options.socks4-user-id-name", "a socks4:// proxy with a user id, to a server name",
     {"proxy": "socks4://alice:x@127.0.0.1:{port}", "uri": "ws://localhost:8765/"}),
    ("proxy-options.socks4a-ip", "a socks4a:// proxy to a server given by its address",
     {"proxy": "socks4a://127.0.0.1:{port}", "uri": "ws://127.0.0.1:8765/"}),
    ("proxy-options.socks5-name", "a socks5:// proxy: the client resolves the server's name",
     {"proxy": "socks5://127.0.0.1:{port}", "uri": "ws://localhost:8765/"}),
    ("proxy-options.socks5h-ip", "a socks5h:// proxy to a server given by its IPv4 address",
     {"proxy": "socks5h://127.0.0.1:{port}", "uri": "ws://127.0.0.1:8765/"}),
    ("proxy-options.socks5h-ipv6", "a socks5h:// proxy to a server given by its IPv6 address",
     {"proxy": "socks5h://127.0.0.1:{port}", "uri": "ws://[::1]:8765/"}),
    # The whole chain of causes of a refusal: ProxyError, ProxyError, python-socks' error.
    ("proxy-options.socks4-refused-chain", "a socks4:// proxy refuses: the causes",
     {"proxy": "socks4://127.0.0.1:{port}", "uri": "ws://127.0.0.1:8765/", "reply": 1,
      "chain": True}),
    ("proxy-options.socks5-refused-chain", "a socks5:// proxy refuses: the causes",
     {"proxy": "socks5://127.0.0.1:{port}", "uri": "ws://127.0.0.1:8765/", "reply": 1,
      "chain": True}),
    # Keywords for the connection that the event loop refuses once the tunnel is open.
    ("proxy-options.socks5h-host-kwarg", "host= with a SOCKS proxy",
     {"proxy": "socks5h://127.0.0.1:{port}", "kwargs": {"host": "127.0.0.1"}}),
    ("proxy-options.socks5h-family-kwarg", "family=AF_INET6 with a SOCKS proxy at 127.0.0.1",
     {"proxy": "socks5h://127.0.0.1:{port}", "kwargs": {"family": socket.AF_INET6}}),
    ("proxy-options.socks5h-wss-ssl-false", "wss:// with ssl=False through a SOCKS tunnel",
     {"proxy": "socks5h://127.0.0.1:{port}", "uri": SECURE_SERVER, "kwargs": {"ssl": False}}),
    ("proxy-options.socks5h-ws-server-hostname",
     "server_hostname with ws:// through a SOCKS tunnel",
     {"proxy": "socks5h://127.0.0.1:{port}", "kwargs": {"server_hostname": "localhost"}}),
    ("proxy-options.socks5h-wss-ssl-false-refused",
     "wss:// with ssl=False through a SOCKS proxy that refuses the server",
     {"proxy": "socks5h://127.0.0.1:{port}", "uri": SECURE_SERVER, "kwargs": {"ssl": False},
      "reply": 5}),
    ("proxy-options.env-socks-http", "socks_proxy=http://... is used as socks5h://",
     {"proxy": None, "env": {"socks_proxy": "http://127.0.0.1:{port}",
                             "http_proxy": f"http://{CLOSED}"}}),
    ("proxy-options.env-socks-before-https", "socks_proxy wins over https_proxy",
     {"proxy": None, "env": {"socks_proxy": "socks5h://127.0.0.1:{port}",
                             "https_proxy": f"http://{CLOSED}"}}),
]


@family("proxy-tls", SOCKS_CASES, seed="proxy-tls", sides="client")
async def socks(
    pair: Pair,
    proxy: str | None,
    uri: str = SERVER,
    reply: int = 0,
    kwargs: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    chain: bool = False,
) -> Any:
    """connect() through a raw SOCKS proxy: the outcome and what the proxy was asked."""
    tunnel = tls_accept_and_greet if uri.startswith("wss:") else accept_and_greet
    options = resolved(kwargs or {})
    async with SocksProxy(pair, tunnel, reply) as server:
        port = str(server.port)
        if proxy is not None:
            options["proxy"] = proxy.replace("{port}", port)
        values = {name: value.replace("{port}", port) for name, value in (env or {}).items()}
        with proxy_environment(values):
            outcome = await opening(pair, uri, chain=chain, **options)
    return {"outcome": outcome, "asked": server.asked, "proxy_errors": server.errors}
