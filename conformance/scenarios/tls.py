"""wss:// with real certificates: default verification, trusted contexts, host names, ``ssl=``.

The server target serves over TLS with a certificate of a trustme authority that no system
trust store knows, for localhost and 127.0.0.1, or for example.org only; the client target
connects directly, or through a pproxy (see :mod:`._proxies`) whose tunnel TLS runs through.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any

import trustme

from .. import trace
from ..scenario import Pair, family
from ._proxies import pproxy_port
from ._shapes import echo

LOCAL = ("localhost", "127.0.0.1")


@functools.cache
def authority() -> trustme.CA:
    """One certificate authority for the whole run, unknown to the system's trust store."""
    return trustme.CA()


@functools.cache
def _certificate(*names: str) -> trustme.LeafCert:
    return authority().issue_cert(*names)


def server_context(*names: str) -> ssl.SSLContext:
    """A server context with a certificate for ``names``, by default localhost and 127.0.0.1."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    _certificate(*(names or LOCAL)).configure_cert(context)
    return context


def pem(*names: str) -> bytes:
    """Key and certificate chain for ``names`` (by default :data:`LOCAL`) as PEM, for pproxy."""
    return _certificate(*(names or LOCAL)).private_key_and_cert_chain_pem.bytes()


def trusting_context() -> ssl.SSLContext:
    """A client context that trusts :func:`authority`."""
    context = ssl.create_default_context()
    authority().configure_trust(context)
    return context


def verification(data: Any, exc: BaseException) -> Any:
    """Stable parts of a certificate verification error."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        data["verify_code"] = exc.verify_code
        data["reason"] = exc.reason
    return data


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("tls.trusted", "a context trusting the server's CA connects and echoes",
     {"client": {"ssl": "trusting"}}),
    ("tls.trusted-ip", "a context trusting the server's CA connects to its IP address",
     {"client": {"ssl": "trusting"}, "host": "127.0.0.1"}),
    ("tls.ssl-true", "ssl=True verifies against the system store: an unknown CA fails",
     {"client": {"ssl": True}}),
    ("tls.default", "ssl omitted verifies by default: an unknown CA fails", {"client": {}}),
    ("tls.ssl-none", "ssl=None with wss://", {"client": {"ssl": None}}),
    ("tls.ssl-with-ws", "ssl=<context> with a ws:// URI is refused",
     {"client": {"ssl": "trusting"}, "scheme": "ws", "host": "127.0.0.1"}),
    ("tls.wrong-hostname", "a certificate for another host name fails verification",
     {"client": {"ssl": "trusting", "server_hostname": "example.com"}}),
    ("tls.wrong-server-hostname-ip",
     "server_hostname naming a host the certificate doesn't, with an IP address in the URI",
     {"client": {"ssl": "trusting", "server_hostname": "example.org"}, "host": "127.0.0.1"}),
    ("tls.server-hostname", "server_hostname selects the name checked against the certificate",
     {"client": {"ssl": "trusting", "server_hostname": "localhost"}, "host": "127.0.0.1"}),
    ("tls.wrong-host-ip", "a certificate for example.org only, reached by IP address",
     {"client": {"ssl": "trusting"}, "host": "127.0.0.1", "names": ("example.org",)}),
    ("tls.wrong-host-name", "a certificate for example.org only, reached as localhost",
     {"client": {"ssl": "trusting"}, "names": ("example.org",)}),
    ("tls.server-hostname-other",
     "server_hostname=example.org matches a certificate for example.org reached by IP address",
     {"client": {"ssl": "trusting", "server_hostname": "example.org"}, "host": "127.0.0.1",
      "names": ("example.org",)}),
]

SSL_FALSE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("tls.ssl-false", "ssl=False with wss:// fails when connecting", {"client": {"ssl": False}}),
]


async def secure_exchange(pair: Pair, uri: str, **kwargs: Any) -> Any:
    """Connect to the echo server at ``uri`` and exchange a message: the outcome."""
    if kwargs.get("ssl") == "trusting":
        kwargs["ssl"] = trusting_context()

    async def exchange() -> Any:
        async with pair.connect(uri, **kwargs) as ws:
            await ws.send("secret")
            return await ws.recv()

    try:
        async with asyncio.timeout(pair.timeout):
            return {"result": await exchange()}
    except Exception as exc:
        return verification(trace.exception(exc), exc)


@family("connect", CASES)
async def secure_echo(
    pair: Pair,
    client: dict[str, Any],
    host: str = "localhost",
    scheme: str = "wss",
    names: tuple[str, ...] = LOCAL,
) -> Any:
    """A wss:// server with a trustme certificate; the client connects as configured and echoes."""
    async with pair.serving(echo, ssl=server_context(*names)) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        return {"echo": await secure_exchange(pair, f"{scheme}://{host}:{port}/", **client)}


family("connect", SSL_FALSE_CASES, seed="ssl-false")(secure_echo)


# TLS end to end through the tunnel of a real proxy.

PROXY_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"tls.through-{scheme}-{name}",
     f"wss:// to {host} through a {scheme}:// pproxy, untrusted and trusted",
     {"scheme": scheme, "host": host})
    for scheme in ("http", "socks5", "socks5h")
    for name, host in (("ip", "127.0.0.1"), ("name", "localhost"))
]


@family("proxy-tls", PROXY_CASES, seed="proxy-tls")
async def through_proxy(pair: Pair, scheme: str, host: str) -> Any:
    """TLS runs end to end through the proxy's tunnel, and verifies the server's certificate."""
    proxy = f"{scheme}://127.0.0.1:{await pproxy_port('http+socks4+socks5')}"
    async with pair.serving(echo, ssl=server_context()) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        uri = f"wss://{host}:{port}/"
        # Untrusted first: the trusted exchange then also lets the server see the end of the
        # failed handshake before it stops.
        untrusted = await secure_exchange(pair, uri, proxy=proxy)
        trusted = await secure_exchange(pair, uri, proxy=proxy, ssl="trusting")
        return {"trusted": trusted, "untrusted": untrusted}
