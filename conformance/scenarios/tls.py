"""wss:// with real certificates: default verification, trusted contexts, host names, ``ssl=``."""

from __future__ import annotations

import functools
import ssl
from typing import Any

import trustme

from .. import trace
from ..scenario import Pair, family
from ._shapes import echo


@functools.cache
def authority() -> trustme.CA:
    """One certificate authority for the whole run, unknown to the system's trust store."""
    return trustme.CA()


def server_context() -> ssl.SSLContext:
    """A server context with a certificate for localhost and 127.0.0.1."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority().issue_cert("localhost", "127.0.0.1").configure_cert(context)
    return context


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
    ("tls.ssl-true", "ssl=True verifies against the system store: an unknown CA fails",
     {"client": {"ssl": True}}),
    ("tls.default", "ssl omitted verifies by default: an unknown CA fails", {"client": {}}),
    ("tls.ssl-none", "ssl=None with wss://", {"client": {"ssl": None}}),
    ("tls.wrong-hostname", "a certificate for another host name fails verification",
     {"client": {"ssl": "trusting", "server_hostname": "example.com"}}),
    ("tls.server-hostname", "server_hostname selects the name checked against the certificate",
     {"client": {"ssl": "trusting", "server_hostname": "localhost"}, "host": "127.0.0.1"}),
]


@family("connect", CASES)
async def secure_echo(pair: Pair, client: dict[str, Any], host: str = "localhost") -> Any:
    """A wss:// server with a trustme certificate; the client connects as configured and echoes."""
    kwargs = dict(client)
    if kwargs.get("ssl") == "trusting":
        kwargs["ssl"] = trusting_context()
    async with pair.serving(echo, ssl=server_context()) as server:
        port = next(iter(server.sockets)).getsockname()[1]

        async def exchange() -> Any:
            async with pair.connect(f"wss://{host}:{port}/", **kwargs) as ws:
                await ws.send("secret")
                return await ws.recv()

        try:
            return {"echo": {"result": await exchange()}}
        except Exception as exc:
            return {"echo": verification(trace.exception(exc), exc)}
