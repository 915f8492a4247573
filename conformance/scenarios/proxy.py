"""connect() through an HTTP or HTTPS proxy played by a raw server.

The raw proxy reads the ``CONNECT`` request and answers it as scripted; once it grants the
tunnel, it plays the WebSocket server inside it: it accepts the upgrade and sends a message, or
refuses it with a long body. The trace holds the client's outcome and the ``CONNECT`` request
as the proxy read it (the User-Agent value depends on the library and is left out).

Scripted proxies of :mod:`._proxies` also stay silent, to check that ``open_timeout`` bounds the
proxy handshake, or record the address the client connects from, for ``local_addr``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..raw import OP_TEXT, RawConnection, RawServer, Request, default_response
from ..scenario import Pair, family, scenario
from ._proxies import Handler, free_port, peer_recorder, silent, tcp_server
from .handshake_bytes_client import body_of, failure
from .tls import server_context, trusting_context

GRANTED = b"HTTP/1.1 200 Connection established\r\n\r\n"
# Not resolved: the proxy is asked to connect, and the raw proxy plays the server.
SERVER = "ws://example.com/"
CREDENTIALS = "user:pass@"
BODY_SIZE = 100_000

Tunnel = Callable[[RawConnection], Any]


def causes(exc: BaseException) -> list[Any]:
    """The exception and each of its causes in turn: class names and messages."""
    chain: list[Any] = []
    error: BaseException | None = exc
    while error is not None:
        chain.append([type(error).__name__, str(error)])
        error = error.__cause__
    return chain


async def _read_request(conn: RawConnection) -> Request:
    """Read the upgrade request the client sends inside the tunnel."""
    head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), conn.timeout)
    line, _, rest = head.decode("latin-1").partition("\r\n")
    headers = dict(
        item.split(": ", 1) for item in rest.removesuffix("\r\n\r\n").split("\r\n") if item
    )
    return Request("GET", line.split(" ")[1], headers)


async def accept_and_greet(conn: RawConnection) -> None:
    """Accept the upgrade, send a text message, then finish the closing handshake."""
    request = await _read_request(conn)
    await conn.send(default_response(request))
    await conn.send_frame(OP_TEXT, b"hello through the tunnel")
    await conn.close_handshake()


async def refuse_with_body(conn: RawConnection) -> None:
    """Refuse the upgrade with a 403 response carrying a long body."""
    await _read_request(conn)
    body = body_of(BODY_SIZE)
    await conn.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def _request(request: Request, default_user_agent: bool) -> dict[str, Any]:
    """The CONNECT request as the proxy read it; each library's default User-Agent blanked."""
    headers = dict(request.headers)
    if default_user_agent and "User-Agent" in headers:
        headers["User-Agent"] = "(default)"
    return {
        "method": request.method,
        "target": request.path,
        "headers": headers,
        "order": list(headers),
    }


async def through_proxy(
    pair: Pair,
    scheme: str,
    answer: bytes = GRANTED,
    tunnel: Tunnel | None = accept_and_greet,
    credentials: str = "",
    uri: str = SERVER,
    chain: bool = False,
    **kwargs: Any,
) -> Any:
    """Connect to ``uri`` through a raw ``scheme`` proxy answering ``answer``; with ``chain``,
    the outcome of a failure holds the whole chain of its causes."""
    secure = scheme == "https"
    if secure:
        kwargs["proxy_ssl"] = trusting_context()
    expected = body_of(BODY_SIZE) if tunnel is refuse_with_body else None

    async def opening(url: str) -> Any:
        async with pair.connect(uri, proxy=url, **kwargs) as ws:
            return {"recv": await ws.recv(), "address": ws.remote_address is not None}

    async with RawServer(
        tunnel, lambda request: answer, pair.timeout, ssl=server_context() if secure else None
    ) as proxy:
        port = proxy.url.rpartition(":")[2].rstrip("/")
        url = f"{scheme}://{credentials}127.0.0.1:{port}"
        try:
            async with asyncio.timeout(pair.timeout):
                outcome = {"result": await opening(url)}
        except Exception as exc:
            outcome = failure(exc, expected)
            if chain:
                outcome["chain"] = causes(exc)
    default_user_agent = "user_agent_header" not in kwargs
    requests = [_request(request, default_user_agent) for request in proxy.requests]
    return {"outcome": outcome, "requests": requests, "proxy_errors": proxy.errors}


CASES: list[tuple[str, str, dict[str, Any]]] = []
for scheme in ("http", "https"):
    CASES += [
        (f"proxy.{scheme}-tunnel", f"an {scheme}:// proxy grants the tunnel; a message arrives",
         {"scheme": scheme}),
        (f"proxy.{scheme}-credentials", f"credentials in the {scheme}:// proxy's URL",
         {"scheme": scheme, "credentials": CREDENTIALS}),
        (f"proxy.{scheme}-user-agent", f"user_agent_header also goes to the {scheme}:// proxy",
         {"scheme": scheme, "user_agent_header": "agent/1.0"}),
        (f"proxy.{scheme}-no-user-agent", f"user_agent_header=None with an {scheme}:// proxy",
         {"scheme": scheme, "user_agent_header": None}),
        (f"proxy.{scheme}-refusal-body",
         f"the server refuses with a {BODY_SIZE}-byte body through an {scheme}:// proxy",
         {"scheme": scheme, "tunnel": refuse_with_body}),
        (f"proxy.{scheme}-407", f"the {scheme}:// proxy asks for credentials",
         {"scheme": scheme, "tunnel": None,
          "answer": b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b"Proxy-Authenticate: Basic realm=\"proxy\"\r\nContent-Length: 0\r\n\r\n"}),
    ]
CASES += [
    ("proxy.http-1.0-answer", "the proxy grants the tunnel in HTTP/1.0",
     {"scheme": "http", "answer": b"HTTP/1.0 200 OK\r\n\r\n"}),
    ("proxy.http-2xx-answer", "the proxy grants the tunnel with 204 and a header",
     {"scheme": "http", "answer": b"HTTP/1.1 204 No Content\r\nVia: raw\r\n\r\n"}),
    ("proxy.http-malformed-answer", "the proxy answers with a malformed status line",
     {"scheme": "http", "tunnel": None, "answer": b"HTTP/1.1 OK\r\n\r\n"}),
    ("proxy.http-bad-header", "the proxy answers with a malformed header line",
     {"scheme": "http", "tunnel": None, "answer": b"HTTP/1.1 200 OK\r\nnot a header\r\n\r\n"}),
    ("proxy.http-closes", "the proxy closes the connection without answering",
     {"scheme": "http", "tunnel": None, "answer": b""}),
    ("proxy.http-truncated-answer", "the proxy closes in the middle of its answer",
     {"scheme": "http", "tunnel": None, "answer": b"HTTP/1.1 200 OK\r\nVia: r"}),
    ("proxy.http-502", "the proxy refuses CONNECT with 502 and a body",
     {"scheme": "http", "tunnel": None,
      "answer": b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 4\r\n\r\ngone"}),
]

CASES += [
    ("proxy.http-connect-port", "CONNECT names the server's port and Host carries it",
     {"scheme": "http", "uri": "ws://example.com:8080/"}),
    ("proxy.https-connect-port", "CONNECT through an https:// proxy to a server's port",
     {"scheme": "https", "uri": "ws://example.com:8080/"}),
    ("proxy.http-connect-ipv6", "CONNECT to a server given by its IPv6 address",
     {"scheme": "http", "uri": "ws://[::1]:8080/"}),
]

# Rejections and malformed answers of the proxy, a proxy closing the connection in the middle of
# its answer, and a 200 that relays nothing: the proxy closes once it answered.
REPLIES = [
    ("407-bare", b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"),
    ("403-http-1.0", b"HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n"),
    ("502-latin-1-header", b"HTTP/1.1 502 Bad Gateway\r\nX: \xe9\r\n\r\n"),
    ("200-then-nothing", b"HTTP/1.1 200 OK\r\n\r\n"),
    ("200-http-1.0-then-nothing", b"HTTP/1.0 200 Connection established\r\n\r\n"),
    ("empty", b""),
    ("status-line-only", b"HTTP/1.1 200 OK\r\n"),
    ("lf-only", b"HTTP/1.1 200 OK\n\n"),
    ("http-2", b"HTTP/2 200 OK\r\n\r\n"),
    ("status-2000", b"HTTP/1.1 2000 OK\r\n\r\n"),
    ("no-status-code", b"HTTP/1.1 OK\r\n\r\n"),
    ("header-no-colon", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"),
    ("header-name-space", b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n"),
    ("long-reason", b"HTTP/1.1 200 " + b"x" * 9000 + b"\r\n\r\n"),
    ("many-headers", b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 200 + b"\r\n"),
]
# Answers an http:// case above already scripts.
SCRIPTED = {b"", b"HTTP/1.1 OK\r\n\r\n"}
# The whole chain of causes of each failure.
CASES += [
    (f"proxy.{scheme}-reply-{name}", f"the {scheme}:// proxy answers {reply[:40]!r}",
     {"scheme": scheme, "tunnel": None, "answer": reply, "chain": True})
    for scheme in ("http", "https")
    for name, reply in REPLIES
    if scheme == "https" or reply not in SCRIPTED
]


@family("proxy-tls", CASES, seed="proxy-tls", sides="client")
async def proxied(pair: Pair, **kwargs: Any) -> Any:
    """connect() through a raw proxy: the outcome and the CONNECT request."""
    return await through_proxy(pair, **kwargs)


INVALID_PROXIES = [
    "ftp://127.0.0.1:21",
    "http://127.0.0.1:8080/path",
    "http://127.0.0.1:8080?query",
    "socks6://127.0.0.1:1080",
    "http://[::1",
    "https://user@127.0.0.1:3128",
    "http://:8080",
    "http://",
    "https://user:pass@:3128",
    "socks5://",
    "http://127.0.0.1:8080#fragment",
    "https://127.0.0.1:8080/#top",
    "http://pr\u00f8xy.example:8080#x",
    "http://pr\u00f8xy.example:8080/path",
    "http://\u00fcser@127.0.0.1:8080",
    "http://user:p%ZZ@127.0.0.1:9",
    "http://us%C3er:pass@127.0.0.1:8080",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:port",
    "HTTP://127.0.0.1:9/?",
]


@scenario("proxy-tls", seed="proxy-tls", sides="client")
async def invalid_proxy_url(pair: Pair) -> Any:
    """Proxy URLs that connect() refuses before connecting: the exceptions."""
    outcomes = []
    for url in INVALID_PROXIES:
        try:
            async with asyncio.timeout(pair.timeout), pair.connect(SERVER, proxy=url):
                outcomes.append({"result": "connected"})
        except Exception as exc:
            outcomes.append(failure(exc))
    return outcomes


VALID_PROXIES = [
    "http://127.0.0.1:8080",
    "https://proxy.example",
    "socks5h://user:pass@127.0.0.1",
    "socks4://Proxy.Example:1080/",
    "http://us%C3%A9r:p%40ss@[::1]:3128",
    "socks5://pr\u00f8xy.example:1080",
    "http://user:@127.0.0.1:9",
]


@scenario("proxy-tls", seed="proxy-tls", sides="client", id="proxy.parse-proxy")
async def parse_proxy(pair: Pair) -> Any:
    """The proxy module as applications use it: parse_proxy() fields, user_info, errors."""
    assert pair.client_target is not None
    module = pair.client_target.module("proxy")
    outcomes: dict[str, Any] = {}
    for url in [*VALID_PROXIES, *INVALID_PROXIES]:
        try:
            proxy = module.parse_proxy(url)
        except Exception as exc:
            outcomes[url] = failure(exc)
        else:
            outcomes[url] = {"repr": repr(proxy), "user_info": proxy.user_info}
    return outcomes


def scripted(scheme: str) -> tuple[Any, dict[str, Any]]:
    """The TLS settings of a scripted ``scheme`` proxy, and connect()'s keywords for it."""
    if scheme == "https":
        return server_context(), {"proxy_ssl": trusting_context()}
    return None, {}


SILENT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"proxy.silent-{scheme}",
     f"open_timeout bounds the handshake with a silent {scheme}:// proxy, then closes it",
     {"scheme": scheme})
    for scheme in ("http", "https", "socks4a", "socks5h")
] + [
    (f"proxy.silent-after-tunnel-{scheme}",
     f"open_timeout bounds a handshake that a {scheme}:// proxy's tunnel never answers",
     {"scheme": scheme, "tunnel": True})
    for scheme in ("http", "https")
]


def tunnel_then_silent(events: list[str]) -> Handler:
    """An HTTP proxy that answers CONNECT with 200, then relays nothing: the WebSocket
    handshake is never answered; record ``"closed"`` when the client closes."""
    handle = silent(events)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await handle(reader, writer)

    return answer


@family("proxy-tls", SILENT_CASES, seed="proxy-tls", sides="client")
async def silent_proxy(pair: Pair, scheme: str, tunnel: bool = False) -> Any:
    """A proxy that never answers, or whose tunnel doesn't: the timeout, and whether the client
    closed the connection."""
    events: list[str] = []
    tls, kwargs = scripted(scheme)
    handler = tunnel_then_silent(events) if tunnel else silent(events)
    async with tcp_server(handler, tls) as port:
        try:
            async with asyncio.timeout(pair.timeout):
                async with pair.connect(
                    SERVER, proxy=f"{scheme}://127.0.0.1:{port}", open_timeout=0.5, **kwargs
                ):
                    outcome: Any = {"result": "connected"}
        except Exception as exc:
            outcome = failure(exc)
        try:
            async with asyncio.timeout(pair.timeout):
                while not events:
                    await asyncio.sleep(0.01)
        except TimeoutError:
            pass
    return {"outcome": outcome, "closed": events}


LOCAL_ADDR_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"proxy.{keyword.replace('_', '-')}-{scheme}",
     f"{keyword} binds the connection to the {scheme}:// proxy",
     {"scheme": scheme, "keyword": keyword})
    for scheme, keyword in [
        ("http", "local_addr"),
        ("http", "proxy_local_addr"),
        ("https", "local_addr"),
        ("https", "proxy_local_addr"),
        ("socks4a", "local_addr"),
        ("socks5h", "local_addr"),
    ]
]


@family("proxy-tls", LOCAL_ADDR_CASES, seed="proxy-tls", sides="client")
async def local_addr(pair: Pair, scheme: str, keyword: str) -> Any:
    """The proxy records the address the client connects from, then closes."""
    peers: list[tuple[str, int]] = []
    address = ("127.0.0.1", free_port())
    tls, kwargs = scripted(scheme)
    kwargs[keyword] = address
    async with tcp_server(peer_recorder(peers), tls) as port:
        try:
            async with asyncio.timeout(pair.timeout):
                async with pair.connect(SERVER, proxy=f"{scheme}://127.0.0.1:{port}", **kwargs):
                    outcome: Any = {"result": "connected"}
        except Exception as exc:
            outcome = failure(exc)
    return {"outcome": outcome, "bound": [tuple(peer) == address for peer in peers]}
