"""Connecting through a SOCKS4 or SOCKS5 proxy with python-socks, as websockets does.

python-socks is optional (the ``socks`` extra); without it, connecting through a SOCKS proxy
raises :exc:`ImportError`. Its :exc:`OSError` subclasses (``ProxyConnectionError`` when the proxy
can't be reached, ``ProxyTimeoutError``) pass through, so ``async for ... in connect(...)``
retries them; its other errors, such as the proxy refusing the server, are wrapped in
:exc:`~compat.exceptions.ProxyError` with the original as the cause.
"""

from __future__ import annotations

import socket

from ..exceptions import ProxyError
from ..proxy import Proxy
from ..uri import WebSocketURI

try:
    from python_socks import ProxyType
    from python_socks.async_.asyncio import Proxy as SocksProxy
except ImportError:
    HAS_PYTHON_SOCKS = False
else:
    HAS_PYTHON_SOCKS = True

__all__ = ["connect_socks_proxy"]


async def connect_socks_proxy(
    proxy: Proxy, wsuri: WebSocketURI, local_addr: tuple[str, int] | None
) -> socket.socket:
    """
    Return a non-blocking socket tunnelled through ``proxy`` to the server of ``wsuri``.

    ``socks4a`` and ``socks5h`` let the proxy resolve the server's name; ``socks4`` and
    ``socks5`` resolve it locally. ``local_addr`` binds the connection to the proxy.
    """
    if not HAS_PYTHON_SOCKS:
        raise ImportError("connecting through a SOCKS proxy requires python-socks")
    client = SocksProxy(
        ProxyType.SOCKS5 if proxy.scheme.startswith("socks5") else ProxyType.SOCKS4,
        proxy.host,
        proxy.port,
        proxy.username,
        proxy.password,
        rdns=proxy.scheme in ("socks4a", "socks5h"),
    )
    try:
        return await client.connect(wsuri.host, wsuri.port, local_addr=local_addr)
    except OSError:
        raise
    except Exception as exc:
        raise ProxyError("failed to connect to SOCKS proxy") from exc
