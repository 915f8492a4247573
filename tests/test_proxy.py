"""
Connecting through HTTP, HTTPS and SOCKS proxies: the same ``connect()`` call with websockets and
with compat must have the same outcome, against real proxies (pproxy, over TLS too) and scripted
ones.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import pathlib
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
import trustme
from websockets.asyncio.server import serve

from tests.conftest import echo_websocket, failure
from tests.proxyserver import (
    ECHO,
    Handler,
    Outcome,
    differential,
    exchange,
    free_port,
    http_proxy,
    pproxy,
    silent,
    socks_proxy,
    tcp_server,
)

if TYPE_CHECKING:
    from websockets.exceptions import InvalidStatus

    from compat.exceptions import InvalidStatus as CompatInvalidStatus

TIMEOUT = 10.0
USER, PASSWORD, USER_ID = "user", "pass", "alice"
SOCKS_FAILURE = ("raised", "ProxyError", "failed to connect to SOCKS proxy")
ROOT = pathlib.Path(__file__).resolve().parent.parent

# OpenSSL certificate verification codes.
UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
HOSTNAME_MISMATCH = 62


# Python 3.11's asyncio reports a failed TLS handshake inside TLS (to a server through an HTTPS
# proxy) with this error from its own code, to websockets and compat alike.
TLS_IN_TLS_FAILURE = (
    "raised",
    "TypeError",
    "SSLProtocol._abort() takes 1 positional argument but 2 were given",
)


def verification_error(code: int) -> Outcome:
    """Outcome of a connection that fails to verify a certificate with ``code``."""
    return ("raised", "SSLCertVerificationError", code, "CERTIFICATE_VERIFY_FAILED")


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ignore the proxies configured where the tests run: ``connect()`` uses them by default."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    """A certificate authority that no default trust store knows."""
    return trustme.CA()


@pytest.fixture(scope="module")
def trusting(authority: trustme.CA) -> ssl.SSLContext:
    """Default client TLS settings, trusting :func:`authority`."""
    context = ssl.create_default_context()
    authority.configure_trust(context)
    return context


@pytest.fixture(scope="module")
def tls(authority: trustme.CA) -> ssl.SSLContext:
    """Server TLS settings with a certificate of :func:`authority` for 127.0.0.1 and localhost."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def proxies(
    authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, int]]:
    """
    Ports of pproxy: open to all, with ``user:pass``, with SOCKS4 user id, over TLS with a
    certificate of :func:`authority` for 127.0.0.1 and localhost, open and with ``user:pass``;
    and of no proxy.
    """
    pem = tmp_path_factory.mktemp("proxy") / "proxy.pem"
    authority.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(
        str(pem)
    )
    with (
        pproxy("http+socks4+socks5") as open_port,
        pproxy("http+socks5", f"{USER}:{PASSWORD}") as auth_port,
        pproxy("socks4", USER_ID) as socks4_port,
        pproxy("http+ssl", certificate=str(pem)) as tls_port,
        pproxy("http+ssl", f"{USER}:{PASSWORD}", str(pem)) as tls_auth_port,
    ):
        yield {
            "open": open_port,
            "auth": auth_port,
            "socks4": socks4_port,
            "tls": tls_port,
            "tls_auth": tls_auth_port,
            "down": free_port(),
        }


@pytest.fixture
async def tls_server_port(tls: ssl.SSLContext) -> AsyncIterator[int]:
    """Port of a websockets echo server on 127.0.0.1 over TLS, with the :func:`tls` settings."""
    async with serve(echo_websocket, "127.0.0.1", 0, ssl=tls) as server:
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


# A placeholder for the context of the trusting fixture in keyword arguments of the test tables.
TRUSTING = "trusting"


def keywords(kwargs: dict[str, Any], trusting: ssl.SSLContext) -> dict[str, Any]:
    """``kwargs`` with :data:`TRUSTING` replaced by ``trusting``."""
    return {name: trusting if value == TRUSTING else value for name, value in kwargs.items()}


# Proxy address with a port of the proxies fixture, keyword arguments of connect(), and the
# outcome: an echo or the name of the exception raised.
HTTPS_CASES: dict[str, tuple[str, dict[str, Any], Outcome | str]] = {
    "proxy_ssl": ("https://127.0.0.1:{tls}", {"proxy_ssl": TRUSTING}, ECHO),
    "default-context": (
        "https://127.0.0.1:{tls}",
        {},
        verification_error(UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
    ),
    "proxy_ssl-True": (
        "https://127.0.0.1:{tls}",
        {"proxy_ssl": True},
        verification_error(UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
    ),
    "proxy_ssl-None": ("https://127.0.0.1:{tls}", {"proxy_ssl": None}, "ValueError"),
    "proxy_server_hostname": (
        "https://127.0.0.1:{tls}",
        {"proxy_ssl": TRUSTING, "proxy_server_hostname": "localhost"},
        ECHO,
    ),
    "wrong-proxy_server_hostname": (
        "https://127.0.0.1:{tls}",
        {"proxy_ssl": TRUSTING, "proxy_server_hostname": "example.org"},
        verification_error(HOSTNAME_MISMATCH),
    ),
    "proxy_ssl-timeouts": (
        "https://127.0.0.1:{tls}",
        {"proxy_ssl": TRUSTING, "proxy_ssl_handshake_timeout": 5, "proxy_ssl_shutdown_timeout": 5},
        ECHO,
    ),
    "proxy_family": (
        "https://127.0.0.1:{tls}",
        {"proxy_ssl": TRUSTING, "proxy_family": socket.AF_INET6},
        "gaierror",
    ),
    "family-for-proxy": (
        "https://127.0.0.1:{tls}",
        {"proxy_ssl": TRUSTING, "family": socket.AF_INET},
        ECHO,
    ),
    "unknown-proxy-keyword": (
        "https://127.0.0.1:{tls}",
        {"proxy_ssl": TRUSTING, "proxy_bogus": 1},
        "TypeError",
    ),
    "credentials": (f"https://{CREDENTIALS}127.0.0.1:{{tls_auth}}", {"proxy_ssl": TRUSTING}, ECHO),
    "no-credentials": (
        "https://127.0.0.1:{tls_auth}",
        {"proxy_ssl": TRUSTING},
        "InvalidProxyStatus",
    ),
    "wrong-credentials": (
        "https://user:wrong@127.0.0.1:{tls_auth}",
        {"proxy_ssl": TRUSTING},
        "InvalidProxyStatus",
    ),
    "down": ("https://127.0.0.1:{down}", {"proxy_ssl": TRUSTING}, "ConnectionRefusedError"),
    "plain-proxy": ("https://127.0.0.1:{open}", {"proxy_ssl": TRUSTING}, "ConnectionResetError"),
    "http-to-tls-proxy": ("http://127.0.0.1:{tls}", {}, "InvalidProxyMessage"),
    "http-proxy_ssl": ("http://127.0.0.1:{open}", {"proxy_ssl": TRUSTING}, "ValueError"),
    "http-proxy_server_hostname": (
        "http://127.0.0.1:{open}",
        {"proxy_server_hostname": "localhost"},
        "ValueError",
    ),
}


@pytest.mark.parametrize("secure", [False, True], ids=["ws", "wss"])
@pytest.mark.parametrize("case", list(HTTPS_CASES))
async def test_https_proxy(
    proxies: dict[str, int],
    trusting: ssl.SSLContext,
    server_port: int,
    tls_server_port: int,
    case: str,
    secure: bool,
) -> None:
    """
    HTTPS proxies and the ``proxy_*`` keywords: TLS to the proxy, then to a ``wss://`` server
    inside the tunnel; ``proxy_*`` keywords configure the connection to an HTTP proxy.
    """
    template, kwargs, expected = HTTPS_CASES[case]
    kwargs = keywords(kwargs, trusting)
    if secure:
        uri = f"wss://localhost:{tls_server_port}/"
        kwargs["ssl"] = trusting
    else:
        uri = f"ws://localhost:{server_port}/"
    outcome = await differential(uri, proxy=template.format(**proxies), **kwargs)
    check_outcome(outcome, expected)


@pytest.mark.parametrize("secure", [False, True], ids=["ws", "wss"])
def test_https_proxy_on_uvloop(
    proxies: dict[str, int], trusting: ssl.SSLContext, tls: ssl.SSLContext, secure: bool
) -> None:
    """uvloop's transports carry TLS to the proxy, and TLS in TLS, as asyncio's do."""
    uvloop = pytest.importorskip("uvloop")

    async def run() -> Outcome:
        async with serve(echo_websocket, "127.0.0.1", 0, ssl=tls if secure else None) as server:
            port = server.sockets[0].getsockname()[1]
            uri = f"{'wss' if secure else 'ws'}://localhost:{port}/"
            kwargs = {"ssl": trusting} if secure else {}
            proxy = f"https://127.0.0.1:{proxies['tls']}"
            return await differential(uri, proxy=proxy, proxy_ssl=trusting, **kwargs)

    assert uvloop.run(run()) == ECHO


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_wss_untrusted_through_proxy(
    proxies: dict[str, int], trusting: ssl.SSLContext, tls_server_port: int, scheme: str
) -> None:
    """TLS to the server inside the tunnel verifies the server's certificate."""
    port = proxies["tls" if scheme == "https" else "open"]
    kwargs: dict[str, Any] = {"proxy_ssl": trusting} if scheme == "https" else {}
    uri = f"wss://localhost:{tls_server_port}/"
    untrusted = verification_error(UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
    wrong_name = verification_error(HOSTNAME_MISMATCH)
    if scheme == "https" and sys.version_info < (3, 12):
        untrusted = wrong_name = TLS_IN_TLS_FAILURE
    outcome = await differential(uri, proxy=f"{scheme}://127.0.0.1:{port}", **kwargs)
    assert outcome == untrusted
    kwargs.update(ssl=trusting, server_hostname="example.org")
    outcome = await differential(uri, proxy=f"{scheme}://127.0.0.1:{port}", **kwargs)
    assert outcome == wrong_name


# websockets leaves the socket to a SOCKS proxy open when the loop refuses its keywords.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize(
    ("proxy", "kwargs", "expected"),
    [
        (None, {"proxy_ssl": True}, "TypeError"),
        (None, {"unix": True, "path": "/nonexistent", "proxy_ssl": True}, "TypeError"),
        ("socks5h://127.0.0.1:{open}", {"proxy_ssl": True}, "TypeError"),
        ("socks5h://127.0.0.1:{down}", {"proxy_ssl": True}, "ProxyConnectionError"),
        ("socks5h://127.0.0.1:{open}", {"host": "127.0.0.1"}, "ValueError"),
        ("socks5h://127.0.0.1:{open}", {"family": socket.AF_INET6}, ECHO),
    ],
    ids=["direct", "unix", "socks", "socks-down", "socks-host", "socks-family"],
)
async def test_keywords_without_http_proxy(
    proxies: dict[str, int],
    server_port: int,
    proxy: str | None,
    kwargs: dict[str, Any],
    expected: Outcome | str,
) -> None:
    """Without an HTTP proxy, ``proxy_*`` keywords go to the event loop, which refuses them."""
    if proxy is not None:
        proxy = proxy.format(**proxies)
    outcome = await differential(f"ws://127.0.0.1:{server_port}/", proxy=proxy, **kwargs)
    check_outcome(outcome, expected)


@pytest.mark.parametrize("scheme", ["socks4", "socks5", "socks5h"])
async def test_socks_server_down(proxies: dict[str, int], scheme: str) -> None:
    """pproxy grants a SOCKS tunnel before reaching the server, then closes it."""
    uri = f"ws://127.0.0.1:{free_port()}/"
    outcome = await differential(uri, proxy=f"{scheme}://127.0.0.1:{proxies['open']}")
    assert outcome[:2] == ("raised", "InvalidMessage")


@pytest.mark.parametrize("version", [4, 5])
async def test_socks_refusal_cause(version: int) -> None:
    """A SOCKS proxy refusing the server raises ProxyError caused by python-socks' error."""
    async with tcp_server(socks_proxy(version, [])) as port:
        proxy = f"socks{version}://127.0.0.1:{port}"
        chains = [
            await failure(root, "ws://127.0.0.1:8765/", proxy=proxy)
            for root in ["websockets", "compat"]
        ]
    assert chains[0] == chains[1]
    assert [name for name, _ in chains[0]] == ["ProxyError", "ProxyError", "ReplyError"]


WITHOUT_PYTHON_SOCKS = """
import asyncio, sys
import picows  # picows imports python-socks itself: hide it from websockets and compat only
sys.modules["python_socks"] = None
from tests.proxyserver import differential
print(repr(asyncio.run(differential(sys.argv[1], proxy=sys.argv[2]))))
"""


@pytest.mark.parametrize(
    ("proxy", "expected"),
    [
        (
            "socks5h://127.0.0.1:{open}",
            ("raised", "ImportError", "connecting through a SOCKS proxy requires python-socks"),
        ),
        ("http://127.0.0.1:{open}", ECHO),
    ],
    ids=["socks", "http"],
)
async def test_without_python_socks(
    proxies: dict[str, int], server_port: int, proxy: str, expected: Outcome
) -> None:
    """Without python-socks, SOCKS proxies raise ImportError; HTTP proxies still work."""
    uri = f"ws://127.0.0.1:{server_port}/"
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WITHOUT_PYTHON_SOCKS,
        uri,
        proxy.format(**proxies),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        stdout, stderr = await child.communicate()
    assert child.returncode == 0, stderr.decode()
    assert stdout.decode().strip() == repr(expected)


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
@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_http_proxy_replies(
    tls: ssl.SSLContext, trusting: ssl.SSLContext, scheme: str, reply: bytes, expected: str
) -> None:
    """
    Rejections (407, 403) and malformed answers of an HTTP or HTTPS proxy, a proxy closing the
    connection in the middle of its answer, and a 200 that relays nothing.
    """
    requests: list[bytes] = []
    context, kwargs = scripted(scheme, tls, trusting)
    async with tcp_server(http_proxy(reply, requests), context) as port:
        proxy = f"{scheme}://127.0.0.1:{port}"
        chains = [
            await failure(root, "ws://example.com/", proxy=proxy, **kwargs)
            for root in ["websockets", "compat"]
        ]
    # After a 200, the WebSocket handshake fails: compat's InvalidMessage keeps its direct cause.
    depth = 2 if expected == "InvalidMessage" else None
    assert chains[0][:depth] == chains[1][:depth]
    assert chains[0][0][0] == expected
    assert len(requests) == 2


def scripted(
    scheme: str, tls: ssl.SSLContext, trusting: ssl.SSLContext
) -> tuple[ssl.SSLContext | None, dict[str, Any]]:
    """The TLS settings of a scripted ``scheme`` proxy, and ``connect()``'s keywords for it."""
    if scheme == "https":
        return tls, {"proxy_ssl": trusting}
    return None, {}


@pytest.mark.parametrize(
    ("uri", "proxy", "request_line", "host"),
    [
        ("ws://example.com/", "http://{port}", b"CONNECT example.com:80", b"example.com"),
        ("ws://example.com/", "https://{port}", b"CONNECT example.com:80", b"example.com"),
        ("wss://example.com/", "http://{port}", b"CONNECT example.com:443", b"example.com"),
        ("wss://example.com/", "https://{port}", b"CONNECT example.com:443", b"example.com"),
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
async def test_connect_request(
    tls: ssl.SSLContext,
    trusting: ssl.SSLContext,
    uri: str,
    proxy: str,
    request_line: bytes,
    host: bytes,
) -> None:
    """The ``CONNECT`` request has the same request line and headers, but the User-Agent value."""
    requests: list[bytes] = []
    reply = b"HTTP/1.1 403 Forbidden\r\n\r\n"
    context, kwargs = scripted(proxy.partition(":")[0], tls, trusting)
    async with tcp_server(http_proxy(reply, requests), context) as port:
        address = proxy.format(port=f"127.0.0.1:{port}")
        await differential(uri, proxy=address, **kwargs)
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
    """``user_agent_header`` is sent to the proxy too, and None sends no User-Agent."""
    requests: list[bytes] = []
    async with tcp_server(http_proxy(b"HTTP/1.1 403 Forbidden\r\n\r\n", requests)) as port:
        await differential(
            "ws://example.com/",
            proxy=f"http://127.0.0.1:{port}",
            user_agent_header=user_agent_header,
        )
    expected = b"" if user_agent_header is None else f"User-Agent: {user_agent_header}\r\n".encode()
    assert requests == [
        b"CONNECT example.com:80 HTTP/1.1\r\nHost: example.com\r\n" + expected + b"\r\n"
    ] * 2


@pytest.mark.parametrize("scheme", ["http", "https", "socks4a", "socks5h"])
async def test_silent_proxy(tls: ssl.SSLContext, trusting: ssl.SSLContext, scheme: str) -> None:
    """``open_timeout`` bounds the proxy handshake; the connection to the proxy is then closed."""
    events: list[bytes] = []
    context, kwargs = scripted(scheme, tls, trusting)
    async with tcp_server(silent(events), context) as port:
        outcome = await differential(
            "ws://example.com/", proxy=f"{scheme}://127.0.0.1:{port}", open_timeout=0.5, **kwargs
        )
        await _until_closed(events, 2)
    assert outcome == ("raised", "TimeoutError", "timed out during opening handshake")


async def _until_closed(events: list[bytes], count: int) -> None:
    """Wait until the proxy saw ``count`` clients close their connection."""
    async with asyncio.timeout(TIMEOUT):
        while events.count(b"closed") < count:
            await asyncio.sleep(0.01)


def peer_recorder(peers: list[tuple[str, int]]) -> Handler:
    """Record the address of each client, read its first request, then close the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername"))
        await reader.read(4096)

    return handle


@pytest.mark.parametrize(
    ("scheme", "keyword"),
    [
        ("http", "local_addr"),
        ("http", "proxy_local_addr"),
        ("https", "local_addr"),
        ("https", "proxy_local_addr"),
        ("socks4a", "local_addr"),
        ("socks5h", "local_addr"),
    ],
)
async def test_local_addr(
    tls: ssl.SSLContext, trusting: ssl.SSLContext, scheme: str, keyword: str
) -> None:
    """``local_addr`` binds the connection to the proxy; so does ``proxy_local_addr`` for HTTP."""
    peers: list[tuple[str, int]] = []
    addresses = [("127.0.0.1", free_port()) for _ in range(2)]
    context, kwargs = scripted(scheme, tls, trusting)
    outcomes = []
    async with tcp_server(peer_recorder(peers), context) as port:
        for root, address in zip(["websockets", "compat"], addresses, strict=True):
            kwargs[keyword] = address
            proxy = f"{scheme}://127.0.0.1:{port}"
            outcomes.append(await exchange(root, "ws://example.com/", proxy=proxy, **kwargs))
    assert outcomes[0] == outcomes[1]
    assert peers == addresses


async def test_refusal_body_through_http_proxy(proxies: dict[str, int]) -> None:
    """Through an HTTP proxy, a refused ``ws://`` connection gets the whole body of the refusal."""
    body = bytes(range(256)) * 400

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()

    outcomes = []
    async with tcp_server(refuse) as port:
        for root in ["websockets", "compat"]:
            client = importlib.import_module(f"{root}.asyncio.client")
            proxy = f"http://127.0.0.1:{proxies['open']}"
            try:
                async with asyncio.timeout(TIMEOUT):
                    await client.connect(f"ws://127.0.0.1:{port}/", proxy=proxy)
            except Exception as exc:
                # The refusal, an InvalidStatus of the library under test.
                response = cast("InvalidStatus | CompatInvalidStatus", exc).response
                outcomes.append((type(exc).__name__, bytes(response.body) == body))
    assert outcomes == [("InvalidStatus", True)] * 2


@pytest.mark.parametrize("proxy", [None, "http", "https", "socks5h"])
async def test_wss_with_ssl_false(
    tls: ssl.SSLContext, trusting: ssl.SSLContext, proxy: str | None
) -> None:
    """
    ``ssl=False`` with ``wss://`` fails where asyncio refuses it: at once without a proxy, once
    connected to a SOCKS proxy, and when starting TLS inside an HTTP proxy's tunnel.
    """
    if proxy is None:
        outcome = await differential("wss://127.0.0.1:8765/", ssl=False)
        assert outcome[:2] == ("raised", "ValueError")
        return
    requests: list[Any] = []
    kwargs: dict[str, Any]
    if proxy == "socks5h":
        handler, context, kwargs = socks_proxy(5, requests), None, {}
    else:
        handler = http_proxy(b"HTTP/1.1 200 OK\r\n\r\n", requests)
        context, kwargs = scripted(proxy, tls, trusting)
    async with tcp_server(handler, context) as port:
        outcome = await differential(
            "wss://example.com/", proxy=f"{proxy}://127.0.0.1:{port}", ssl=False, **kwargs
        )
    assert outcome[:2] == ("raised", "ProxyError" if proxy == "socks5h" else "TypeError")
    assert len(requests) == 2  # the proxy was asked by websockets, then by compat


# websockets leaves the socket to the SOCKS proxy open when the loop refuses its keywords.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_wss_with_ssl_false_through_socks_tunnel(
    proxies: dict[str, int], tls_server_port: int
) -> None:
    """Once the SOCKS proxy opened the tunnel, asyncio refuses ``server_hostname`` without TLS."""
    uri = f"wss://127.0.0.1:{tls_server_port}/"
    outcome = await differential(uri, proxy=f"socks5h://127.0.0.1:{proxies['open']}", ssl=False)
    assert outcome == ("raised", "ValueError", "server_hostname is only meaningful with ssl")
