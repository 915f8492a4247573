"""Certificates for the wss:// cases: a throwaway CA (trustme) and a certificate for 127.0.0.1."""

from __future__ import annotations

import functools
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Credentials", "client_context", "credentials", "server_context"]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Credentials:
    """PEM data, plain bytes so that it crosses to a server process."""

    ca: bytes
    chain: bytes
    key: bytes


@functools.cache
def credentials() -> Credentials:
    """A CA and a server certificate for 127.0.0.1, made once per benchmark run."""
    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert(HOST)
    return Credentials(
        ca=authority.cert_pem.bytes(),
        chain=b"".join(blob.bytes() for blob in certificate.cert_chain_pems),
        key=certificate.private_key_pem.bytes(),
    )


def server_context(pem: Credentials) -> ssl.SSLContext:
    """A server context presenting the certificate (loaded through files, as ssl requires)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as folder:
        chain, key = Path(folder, "chain.pem"), Path(folder, "key.pem")
        chain.write_bytes(pem.chain)
        key.write_bytes(pem.key)
        context.load_cert_chain(chain, key)
    return context


@functools.cache
def client_context() -> ssl.SSLContext:
    """A client context trusting only the CA of :func:`credentials`, checking the host name."""
    return ssl.create_default_context(cadata=credentials().ca.decode())
