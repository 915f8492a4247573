"""Opening the TCP connection of a client: directly, or through an HTTP or SOCKS proxy.

picows wraps the connected socket that :func:`open_socket` returns (adding TLS for ``wss://``), so
every way of reaching the server ends here, with websockets' keyword arguments and errors.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Literal

from ..uri import WebSocketURI, get_proxy, parse_proxy

__all__ = ["open_socket"]


async def connect_tcp(
    host: str,
    port: int,
    *,
    family: int = 0,
    proto: int = 0,
    flags: int = 0,
    local_addr: tuple[str, int] | None = None,
) -> socket.socket:
    """Connect a non-blocking TCP socket, trying each resolved address like asyncio does."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(
        host, port, family=family, type=socket.SOCK_STREAM, proto=proto, flags=flags
    )
    if not infos:
        raise OSError("getaddrinfo() returned empty list")
    errors: list[OSError] = []
    for af, socktype, sproto, _, address in infos:
        sock = socket.socket(af, socktype, sproto)
        try:
            sock.setblocking(False)
            if local_addr is not None:
                sock.bind(local_addr)
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            errors.append(exc)
        except BaseException:
            sock.close()
            raise
        else:
            return sock
    if len(errors) == 1:
        raise errors[0]
    if len({str(exc) for exc in errors}) == 1:
        raise errors[0]
    raise OSError(f"Multiple exceptions: {', '.join(str(exc) for exc in errors)}")


async def open_socket(
    wsuri: WebSocketURI, proxy: str | Literal[True] | None, kwargs: dict[str, Any]
) -> socket.socket:
    """Return a socket connected to the server of ``wsuri``, through ``proxy`` if any.

    ``kwargs`` are the keyword arguments of :meth:`asyncio.loop.create_connection` that the
    application passed to ``connect()``: ``host``, ``port``, ``sock``, ``family``, ``proto``,
    ``flags`` and ``local_addr`` are honoured.
    """
    sock: socket.socket | None = kwargs.get("sock")
    if sock is not None:
        sock.setblocking(False)
        return sock
    if proxy is True:
        proxy = get_proxy(wsuri)
    options: dict[str, Any] = {
        name: kwargs[name]
        for name in ("family", "proto", "flags", "local_addr")
        if name in kwargs
    }
    if proxy is not None:
        from .socks import connect_through_proxy

        return await connect_through_proxy(parse_proxy(proxy), wsuri, options)
    host = kwargs.get("host") or wsuri.host
    port = kwargs.get("port") or wsuri.port
    return await connect_tcp(host, port, **options)
