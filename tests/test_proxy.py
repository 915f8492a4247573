"""
Connecting through HTTP and SOCKS proxies: the same ``connect()`` call with websockets and with
compat must have the same outcome, against real proxies (pproxy) and scripted ones.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from websockets.asyncio.server import ServerConnection, serve

from compat.asyncio.socks import connect_through_proxy
from compat.exceptions import ProxyError, UnsupportedFeature
from compat.uri import parse_proxy, parse_uri
from tests.proxyserver import (
    ECHO,
    Handler,
    Outcome,
    differential,
    echo,
    free_port,
    http_proxy,
    pproxy,
    silent,
    socks_proxy,
    tcp_server,
)

TIMEOUT = 10.0
USER, PASSWORD, USER_ID = "user", "pass", "alice"
SOCKS_FAILURE = ("raised", "ProxyError", "failed to connect to SOCKS proxy")


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ignore the proxies configured where the tests run: ``connect()`` uses them by default."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def proxies() -> Iterator[dict[str, int]]:
    """Ports of pproxy: open to all, with ``user:pass``, with SOCKS4 user id, and of no proxy."""
    with (
        pproxy("http+socks4+socks5") as open_port,
        pproxy("http+socks5", f"{USER}:{PASSWORD}") as auth_port,
        pproxy("socks4", USER_ID) as socks4_port,
    ):
        yield {"open": open_port, "auth": auth_port, "socks4": socks4_port, "down": free_port()}


async def echo_websocket(websocket: ServerConnection) -> None:
    async for message in websocket:
        await websocket.send(message)


@pytest.fixture
async def server_port() -> AsyncIterator[int]:
    """Port of a websockets echo server on 127.0.0.1."""
    async with serve(echo_websocket, "127.0.0.1", 0) as server:
        yield server.sockets[0].getsockname()[1]


CREDENTIALS = f"{USER}:{PASSWORD}@"

# Proxy address with the port of a pproxy from the proxies fixture, and the outcome: an echo or
# the name of the exception raised.
PPROXY_CASES: dict[str, tuple[str, Outcome | str]] = {
    "http": ("http://127.0.0.1:{open}", ECHO),
    "socks4": ("socks4://127.0.0.1:{open}", ECHO),
    "socks4a": ("socks4a://127.0.0.1:{open}", ECHO),
    "socks5": ("socks5://127.0.0.1:{open}", ECHO),
    "socks5h": ("socks5h://127.0.0.1:{open}", ECHO),
    "http-credentials": (f"http://{CREDENTIALS}127.0.0.1:{{auth}}", ECHO),
    "http-wrong-credentials": ("http://user:wrong@127.0.0.1:{auth}", "InvalidProxyStatus"),
    "http-no-credentials": ("http://127.0.0.1:{auth}", "InvalidProxyStatus"),
    "socks5-credentials": (f"socks5://{CREDENTIALS}127.0.0.1:{{auth}}", ECHO),
    "socks5h-credentials": (f"socks5h://{CREDENTIALS}127.0.0.1:{{auth}}", ECHO),
    "socks5-wrong-credentials": ("socks5://user:wrong@127.0.0.1:{auth}", "ProxyError"),
    "socks5-no-credentials": ("socks5://127.0.0.1:{auth}", "ProxyError"),
    "socks4-user-id": (f"socks4://{USER_ID}:x@127.0.0.1:{{socks4}}", ECHO),
    "socks4-wrong-user-id": ("socks4://mallory:x@127.0.0.1:{socks4}", "ProxyError"),
    "socks4-no-user-id": ("socks4://127.0.0.1:{socks4}", "ProxyError"),
    "http-down": ("http://127.0.0.1:{down}", "ConnectionRefusedError"),
    "socks4-down": ("socks4://127.0.0.1:{down}", "ProxyConnectionError"),
    "socks5-down": ("socks5://127.0.0.1:{down}", "ProxyConnectionError"),
    "socks5h-down": ("socks5h://127.0.0.1:{down}", "ProxyConnectionError"),
}


def check_outcome(outcome: Outcome, expected: Outcome | str) -> None:
    """Assert that ``outcome`` is ``expected``, given as an outcome or an exception class name."""
    if isinstance(expected, str):
        assert outcome[:2] == ("raised", expected), outcome
    else:
        assert outcome == expected


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("case", list(PPROXY_CASES))
async def test_pproxy(proxies: dict[str, int], server_port: int, case: str, host: str) -> None:
    """Each proxy scheme, with and without credentials, and a proxy that isn't running."""
    template, expected = PPROXY_CASES[case]
    if case == "socks4a" and host == "localhost":
        # pproxy doesn't implement SOCKS4a's names: it connects to 0.0.0.1 instead.
        expected = "InvalidMessage"
    proxy = template.format(**proxies)
    outcome = await differential(f"ws://{host}:{server_port}/", proxy=proxy)
    check_outcome(outcome, expected)


@pytest.mark.parametrize(
    ("environment", "proxy", "expected"),
    [
        ({"http_proxy": "http://127.0.0.1:{open}"}, True, ECHO),
        ({"http_proxy": "http://127.0.0.1:{auth}"}, True, "InvalidProxyStatus"),
        ({"https_proxy": "http://127.0.0.1:{auth}"}, True, "InvalidProxyStatus"),
        ({"ws_proxy": "socks5://127.0.0.1:{auth}"}, True, "ProxyError"),
        ({"socks_proxy": "socks4://127.0.0.1:{down}"}, True, "ProxyConnectionError"),
        ({"socks_proxy": "http://127.0.0.1:{open}"}, True, ECHO),
        ({"http_proxy": "http://127.0.0.1:{down}", "no_proxy": "127.0.0.1"}, True, ECHO),
        ({"http_proxy": "http://127.0.0.1:{down}", "NO_PROXY": "*"}, True, ECHO),
        ({"http_proxy": "http://127.0.0.1:{down}"}, None, ECHO),
        ({"http_proxy": "http://127.0.0.1:{down}"}, "socks5://127.0.0.1:{open}", ECHO),
    ],
    ids=[
        "http_proxy",
        "http_proxy-rejects",
        "https_proxy",
        "ws_proxy",
        "socks_proxy-down",
        "socks_proxy-as-http",
        "no_proxy",
        "NO_PROXY-wildcard",
        "proxy-None",
        "explicit-proxy-wins",
    ],
)
async def test_environment(
    monkeypatch: pytest.MonkeyPatch,
    proxies: dict[str, int],
    server_port: int,
    environment: dict[str, str],
    proxy: str | bool | None,
    expected: Outcome | str,
) -> None:
    """``proxy=True`` reads ``*_proxy`` and ``no_proxy``; ``proxy=None`` or an address overrides."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value.format(**proxies))
    if isinstance(proxy, str):
        proxy = proxy.format(**proxies)
    outcome = await differential(f"ws://127.0.0.1:{server_port}/", proxy=proxy)
    check_outcome(outcome, expected)


@pytest.mark.parametrize("scheme", ["http", "socks4", "socks4a", "socks5", "socks5h"])
async def test_tunnel(proxies: dict[str, int], scheme: str) -> None:
    """:func:`connect_through_proxy` returns a non-blocking socket relayed to the server."""
    loop = asyncio.get_running_loop()
    async with tcp_server(echo) as port, asyncio.timeout(TIMEOUT):
        proxy = parse_proxy(f"{scheme}://127.0.0.1:{proxies['open']}")
        sock = await connect_through_proxy(proxy, parse_uri(f"ws://127.0.0.1:{port}/"), {})
        with sock:
            assert not sock.getblocking()
            await loop.sock_sendall(sock, b"tunnelled")
            assert await loop.sock_recv(sock, 100) == b"tunnelled"


@pytest.mark.parametrize(
    ("scheme", "host", "request_"),
    [
        ("socks4", "localhost", ("", "127.0.0.1")),
        ("socks4a", "localhost", ("", "localhost")),
        ("socks4a", "127.0.0.1", ("", "127.0.0.1")),
        (f"socks4://{USER_ID}:x@", "localhost", (USER_ID, "127.0.0.1")),
        ("socks5", "localhost", ("ipv4", "127.0.0.1")),
        ("socks5h", "localhost", ("domain", "localhost")),
        ("socks5h", "127.0.0.1", ("ipv4", "127.0.0.1")),
        ("socks5h", "[::1]", ("ipv6", "::1")),
    ],
)
async def test_socks_name_resolution(scheme: str, host: str, request_: tuple[str, str]) -> None:
    """``socks4a`` and ``socks5h`` let the proxy resolve the server's name; the others don't."""
    requests: list[tuple[str, str, int]] = []
    prefix = scheme if scheme.endswith("@") else f"{scheme}://"
    handler = socks_proxy(5 if prefix.startswith("socks5") else 4, requests)
    async with tcp_server(handler) as port:
        proxy = f"{prefix}127.0.0.1:{port}"
        outcome = await differential(f"ws://{host}:8765/", proxy=proxy)
    assert outcome == SOCKS_FAILURE
    assert requests == [(*request_, 8765)] * 2  # websockets, then compat


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", "InvalidProxyStatus"),
        (b"HTTP/1.0 403 Forbidden\r\nContent-Length: 0\r\n\r\n", "InvalidProxyStatus"),
        (b"HTTP/1.1 502 Bad Gateway\r\nX: \xe9\r\n\r\n", "InvalidProxyStatus"),
        (b"HTTP/1.1 200 OK\r\n\r\n", "InvalidMessage"),
        (b"HTTP/1.0 200 Connection established\r\n\r\n", "InvalidMessage"),
        (b"", "InvalidProxyMessage"),
        (b"HTTP/1.1 200 OK\r\n", "InvalidProxyMessage"),
        (b"HTTP/1.1 200 OK\n\n", "InvalidProxyMessage"),
        (b"HTTP/2 200 OK\r\n\r\n", "InvalidProxyMessage"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "InvalidProxyMessage"),
        (b"HTTP/1.1 OK\r\n\r\n", "InvalidProxyMessage"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "InvalidProxyMessage"),
        (b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n", "InvalidProxyMessage"),
        (b"HTTP/1.1 200 " + b"x" * 9000 + b"\r\n\r\n", "InvalidProxyMessage"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 200 + b"\r\n", "InvalidProxyMessage"),
    ],
)
async def test_http_proxy_replies(reply: bytes, expected: str) -> None:
    """Rejections and malformed answers of an HTTP proxy; a 200 that relays nothing."""
    requests: list[bytes] = []
    async with tcp_server(http_proxy(reply, requests)) as port:
        outcome = await differential("ws://example.com/", proxy=f"http://127.0.0.1:{port}")
    assert outcome[:2] == ("raised", expected)
    assert len(requests) == 2


@pytest.mark.parametrize(
    ("uri", "proxy", "request_line", "host"),
    [
        ("ws://example.com/", "http://{port}", b"CONNECT example.com:80", b"example.com"),
        ("wss://example.com/", "http://{port}", b"CONNECT example.com:443", b"example.com"),
        (
            "ws://example.com:8080/",
            "http://{port}",
            b"CONNECT example.com:8080",
            b"example.com:8080",
        ),
        ("ws://[::1]:8080/", "http://{port}", b"CONNECT [::1]:8080", b"[::1]:8080"),
        (
            "ws://example.com/",
            f"http://{CREDENTIALS}{{port}}",
            b"CONNECT example.com:80",
            b"example.com",
        ),
    ],
)
async def test_connect_request(uri: str, proxy: str, request_line: bytes, host: bytes) -> None:
    """The ``CONNECT`` request has the same request line and headers, but the User-Agent value."""
    requests: list[bytes] = []
    reply = b"HTTP/1.1 403 Forbidden\r\n\r\n"
    async with tcp_server(http_proxy(reply, requests)) as port:
        address = proxy.format(port=f"127.0.0.1:{port}")
        await differential(uri, proxy=address)
    heads = [_request_head(request) for request in requests]
    assert len(heads) == 2 and heads[0] == heads[1]
    line, headers = heads[0]
    assert line == request_line + b" HTTP/1.1"
    names = [name for name, _ in headers]
    assert names[:2] == [b"Host", b"User-Agent"]
    assert headers[0] == (b"Host", host)
    if CREDENTIALS in proxy:
        assert (b"Proxy-Authorization", b"Basic dXNlcjpwYXNz") in headers


def _request_head(request: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """Split a request head into its request line and headers, blanking the User-Agent value."""
    line, *lines = request.removesuffix(b"\r\n\r\n").split(b"\r\n")
    headers = [tuple(header.split(b": ", 1)) for header in lines]
    return line, [(name, b"" if name == b"User-Agent" else value) for name, value in headers]


@pytest.mark.parametrize("user_agent_header", ["test agent/1.0", None])
async def test_connect_request_user_agent(user_agent_header: str | None) -> None:
    """:func:`connect_through_proxy` sends ``user_agent_header``, or no User-Agent for None."""
    requests: list[bytes] = []
    async with tcp_server(http_proxy(b"HTTP/1.1 200 OK\r\n\r\n", requests)) as port:
        proxy = parse_proxy(f"http://127.0.0.1:{port}")
        async with asyncio.timeout(TIMEOUT):
            sock = await connect_through_proxy(
                proxy,
                parse_uri("ws://example.com/"),
                {},
                user_agent_header=user_agent_header,
            )
        sock.close()
    expected = b"" if user_agent_header is None else f"User-Agent: {user_agent_header}\r\n".encode()
    assert requests == [
        b"CONNECT example.com:80 HTTP/1.1\r\nHost: example.com\r\n" + expected + b"\r\n"
    ]


@pytest.mark.parametrize("scheme", ["http", "socks4a", "socks5h"])
async def test_silent_proxy(scheme: str) -> None:
    """``open_timeout`` bounds the proxy handshake; the socket to the proxy is then closed."""
    events: list[bytes] = []
    async with tcp_server(silent(events)) as port:
        outcome = await differential(
            "ws://example.com/", proxy=f"{scheme}://127.0.0.1:{port}", open_timeout=0.5
        )
        await _until_closed(events, 2)
    assert outcome == ("raised", "TimeoutError", "timed out during opening handshake")


async def test_cancel_tunnel() -> None:
    """Cancelling :func:`connect_through_proxy` closes the socket to the proxy."""
    events: list[bytes] = []
    async with tcp_server(silent(events)) as port:
        proxy = parse_proxy(f"socks5h://127.0.0.1:{port}")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await connect_through_proxy(proxy, parse_uri("ws://example.com/"), {})
        await _until_closed(events, 1)


async def _until_closed(events: list[bytes], count: int) -> None:
    """Wait until the proxy saw ``count`` clients close their connection."""
    async with asyncio.timeout(TIMEOUT):
        while events.count(b"closed") < count:
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("proxy", ["https://127.0.0.1:1", "https://user:pass@127.0.0.1:1"])
async def test_https_proxy(proxy: str) -> None:
    """compat doesn't connect to proxies over TLS: it says so, with what to use instead."""
    client = importlib.import_module("compat.asyncio.client")
    with pytest.raises(UnsupportedFeature) as raised:
        async with asyncio.timeout(TIMEOUT):
            await client.connect("ws://example.com/", proxy=proxy)
    assert raised.value.feature == "https:// proxies"
    assert raised.value.alternative == "use an http://, socks4:// or socks5:// proxy"


def peer_recorder(peers: list[tuple[str, int]]) -> Handler:
    """Record the address of each client, read its first request, then close the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername"))
        await reader.read(4096)

    return handle


@pytest.mark.parametrize("scheme", ["http", "socks4a", "socks5h"])
async def test_local_addr(scheme: str) -> None:
    """``local_addr`` binds the connection to the proxy."""
    peers: list[tuple[str, int]] = []
    local_addr = ("127.0.0.1", free_port())
    async with tcp_server(peer_recorder(peers)) as port:
        proxy = parse_proxy(f"{scheme}://127.0.0.1:{port}")
        with pytest.raises(ProxyError):
            async with asyncio.timeout(TIMEOUT):
                await connect_through_proxy(
                    proxy, parse_uri("ws://example.com/"), {"local_addr": local_addr}
                )
    assert peers == [local_addr]
