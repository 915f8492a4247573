"""
``wss://`` with real certificates: the same ``connect()`` call with websockets and with compat
must have the same outcome, against the ``serve()`` of websockets and of compat.
"""

from __future__ import annotations

import contextlib
import importlib
import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import trustme

from tests.proxyserver import ECHO, differential, pproxy

SERVERS = ["websockets", "compat"]

# OpenSSL certificate verification codes.
UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
HOSTNAME_MISMATCH = 62
IP_ADDRESS_MISMATCH = 64


def verification_error(code: int) -> tuple[str, str, int, str]:
    """Outcome of a connection that fails to verify the server's certificate with ``code``."""
    return ("raised", "SSLCertVerificationError", code, "CERTIFICATE_VERIFY_FAILED")


UNTRUSTED = verification_error(UNABLE_TO_GET_ISSUER_CERT_LOCALLY)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A certificate authority that no default trust store knows."""
    return trustme.CA()


@pytest.fixture(scope="module")
def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """Default client TLS settings, trusting :func:`ca`."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    """Server TLS settings with a certificate of ``ca`` for ``names``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*names).configure_cert(context)
    return context


async def echo(websocket: Any) -> None:
    async for message in websocket:
        await websocket.send(message)


@contextlib.asynccontextmanager
async def tls_server(root: str, context: ssl.SSLContext) -> AsyncIterator[int]:
    """Run the ``serve()`` of ``root`` on 127.0.0.1 with TLS ``context``; yield its port."""
    server = importlib.import_module(f"{root}.asyncio.server")
    async with server.serve(echo, "127.0.0.1", 0, ssl=context) as running:
        yield running.sockets[0].getsockname()[1]


@pytest.fixture(params=SERVERS)
async def local_port(request: pytest.FixtureRequest, ca: trustme.CA) -> AsyncIterator[int]:
    """Port of a TLS echo server whose certificate is for localhost and 127.0.0.1."""
    async with tls_server(request.param, server_context(ca, "localhost", "127.0.0.1")) as port:
        yield port


@pytest.fixture(params=SERVERS)
async def example_port(request: pytest.FixtureRequest, ca: trustme.CA) -> AsyncIterator[int]:
    """Port of a TLS echo server on 127.0.0.1 whose certificate is for example.org only."""
    async with tls_server(request.param, server_context(ca, "example.org")) as port:
        yield port


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_trusted(local_port: int, client_context: ssl.SSLContext, host: str) -> None:
    """``ssl=<SSLContext>`` that trusts the server's CA connects."""
    outcome = await differential(f"wss://{host}:{local_port}/", ssl=client_context)
    assert outcome == ECHO


@pytest.mark.parametrize("kwargs", [{}, {"ssl": True}], ids=["ssl-omitted", "ssl-True"])
async def test_default_verification(local_port: int, kwargs: dict[str, Any]) -> None:
    """Without ``ssl`` or with ``ssl=True``, the default trust store rejects an unknown CA."""
    outcome = await differential(f"wss://localhost:{local_port}/", **kwargs)
    assert outcome == UNTRUSTED


@pytest.mark.parametrize(
    ("ssl_argument", "message"),
    [
        (None, "ssl=None is incompatible with a wss:// URI"),
        (False, "server_hostname is only meaningful with ssl"),
    ],
)
async def test_ssl_none_or_false(
    local_port: int, ssl_argument: bool | None, message: str
) -> None:
    """``ssl=None`` and ``ssl=False`` with ``wss://`` fail when connecting, with ValueError."""
    outcome = await differential(f"wss://localhost:{local_port}/", ssl=ssl_argument)
    assert outcome == ("raised", "ValueError", message)


@pytest.mark.parametrize(
    ("host", "code"), [("127.0.0.1", IP_ADDRESS_MISMATCH), ("localhost", HOSTNAME_MISMATCH)]
)
async def test_wrong_host(
    example_port: int, client_context: ssl.SSLContext, host: str, code: int
) -> None:
    """A trusted certificate for another name fails verification."""
    outcome = await differential(f"wss://{host}:{example_port}/", ssl=client_context)
    assert outcome == verification_error(code)


async def test_server_hostname(example_port: int, client_context: ssl.SSLContext) -> None:
    """``server_hostname`` overrides the name that the certificate must match."""
    uri = f"wss://127.0.0.1:{example_port}/"
    outcome = await differential(uri, ssl=client_context, server_hostname="example.org")
    assert outcome == ECHO


async def test_wrong_server_hostname(local_port: int, client_context: ssl.SSLContext) -> None:
    """A ``server_hostname`` that the certificate doesn't match fails verification."""
    uri = f"wss://127.0.0.1:{local_port}/"
    outcome = await differential(uri, ssl=client_context, server_hostname="example.org")
    assert outcome == verification_error(HOSTNAME_MISMATCH)


async def test_ssl_with_ws(local_port: int, client_context: ssl.SSLContext) -> None:
    """``ssl`` is meaningless with ``ws://``."""
    outcome = await differential(f"ws://127.0.0.1:{local_port}/", ssl=client_context)
    assert outcome == ("raised", "ValueError", "ssl argument is incompatible with a ws:// URI")


@pytest.fixture(scope="module")
def proxy_port() -> Iterator[int]:
    """Port of pproxy serving HTTP CONNECT and SOCKS5."""
    with pproxy("http+socks5") as port:
        yield port


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_through_proxy(
    local_port: int, client_context: ssl.SSLContext, proxy_port: int, scheme: str, host: str
) -> None:
    """TLS runs end to end through the proxy's tunnel, and verifies the server's certificate."""
    uri = f"wss://{host}:{local_port}/"
    proxy = f"{scheme}://127.0.0.1:{proxy_port}"
    assert await differential(uri, proxy=proxy, ssl=client_context) == ECHO
    assert await differential(uri, proxy=proxy) == UNTRUSTED
