"""Opening the connection of a client: TCP, directly or through an HTTP or SOCKS proxy, or Unix.

picows wraps the connected socket that :func:`open_socket` returns (adding TLS for ``wss://``), so
every way of reaching the server ends here, with websockets' keyword arguments and errors.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any, Literal

from ..typing import PathLike
from ..uri import WebSocketURI, get_proxy, parse_proxy
from .socks import connect_through_proxy
from .tcp import connect_tcp

__all__ = ["open_socket"]


async def open_socket(
    wsuri: WebSocketURI,
    proxy: str | Literal[True] | None,
    kwargs: dict[str, Any],
    user_agent_header: str | None,
) -> socket.socket:
    """Return a socket connected to the server of ``wsuri``, through ``proxy`` if any.

    ``kwargs`` are the keyword arguments of :meth:`asyncio.loop.create_connection` that the
    application passed to ``connect()``: ``host``, ``port``, ``sock``, ``family``, ``proto``,
    ``flags`` and ``local_addr`` are honoured. HTTP proxies see ``user_agent_header``.
    """
    sock: socket.socket | None = kwargs.get("sock")
    if sock is None and kwargs.get("unix", False):
        sock = await _connect_unix(kwargs.get("path"))
    if sock is not None:
        sock.setblocking(False)
        return sock
    if proxy is True:
        proxy = get_proxy(wsuri)
    options: dict[str, Any] = {
        name: kwargs[name] for name in ("family", "proto", "flags", "local_addr") if name in kwargs
    }
    if proxy is not None:
        return await connect_through_proxy(
            parse_proxy(proxy), wsuri, options, user_agent_header=user_agent_header
        )
    host = kwargs.get("host") or wsuri.host
    port = kwargs.get("port") or wsuri.port
    return await connect_tcp(host, port, **options)


async def _connect_unix(path: PathLike | None) -> socket.socket:
    """A socket connected to the Unix socket at ``path``."""
    if path is None:
        raise ValueError("no path and sock were specified")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, os.fspath(path))
    except BaseException:
        sock.close()
        raise
    return sock
