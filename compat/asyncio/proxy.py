"""Choosing the proxy of a client, and opening the socket that picows wraps when it isn't HTTP.

:func:`select_proxy` picks the proxy as websockets does. Through an ``http://`` or ``https://``
proxy, :func:`~compat.asyncio.tunnel.open_tunnel` opens the connection. Otherwise picows wraps
the socket that :func:`open_socket` returns (adding TLS for ``wss://``): TCP, directly or through
a SOCKS proxy, or Unix, with websockets' keyword arguments and errors.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
from collections.abc import Callable
from typing import Any, Literal

from ..proxy import Proxy, get_proxy, parse_proxy
from ..typing import PathLike
from ..uri import WebSocketURI
from .socks import connect_socks_proxy
from .tcp import connect_tcp

__all__ = ["open_socket", "select_proxy"]

# asyncio's error for a socket given with a host or a port.
SOCK_AND_ADDRESS = "host/port and sock can not be specified at the same time"


def select_proxy(
    wsuri: WebSocketURI, proxy: str | Literal[True] | None, kwargs: dict[str, Any]
) -> Proxy | None:
    """
    Return the proxy through which to reach the server of ``wsuri``: none with ``unix`` or
    ``sock`` in ``kwargs``; for ``proxy=True``, the one configured for ``wsuri``, if any.
    """
    if kwargs.get("unix", False) or kwargs.get("sock") is not None:
        return None
    if proxy is True:
        proxy = get_proxy(wsuri)
    return None if proxy is None else parse_proxy(proxy)


async def open_socket(
    wsuri: WebSocketURI, proxy: Proxy | None, kwargs: dict[str, Any], refused: str | None = None
) -> socket.socket:
    """
    Return a socket connected to the server of ``wsuri``, through the SOCKS ``proxy`` if any.

    ``kwargs`` are the keyword arguments of :meth:`asyncio.loop.create_connection` that the
    application passed to ``connect()``: ``host``, ``port``, ``sock``, ``family``, ``proto``,
    ``flags`` and ``local_addr`` are honoured; like websockets, only ``local_addr`` applies to
    a SOCKS proxy. ``refused`` is the event loop's error for a TLS keyword given without TLS:
    raised before connecting, after the errors of ``kwargs`` the event loop raises first, or
    once the SOCKS proxy is connected.
    """
    loop = asyncio.get_running_loop()
    if proxy is not None:
        tunnel = await connect_socks_proxy(proxy, wsuri, kwargs.get("local_addr"))
        try:
            # websockets then wraps the socket with loop.create_connection(sock=...).
            _refuse_unknown_kwargs(kwargs, loop.create_connection)
            if refused is not None:
                raise ValueError(refused)
            if kwargs.get("host") is not None or kwargs.get("port") is not None:
                raise ValueError(SOCK_AND_ADDRESS)
        except BaseException:
            tunnel.close()
            raise
        return tunnel
    sock = _given_socket(kwargs)
    if kwargs.get("unix", False):
        _refuse_unknown_kwargs(kwargs, loop.create_unix_connection)
        if refused is not None:
            raise ValueError(refused)
        path = kwargs.get("path")
        if path is not None:
            if sock is not None:
                raise ValueError("path and sock can not be specified at the same time")
            return await _connect_unix(path)
        if sock is None:
            raise ValueError("no path and sock were specified")
        if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
            raise ValueError(f"A UNIX Domain Stream Socket was expected, got {sock!r}")
    else:
        _refuse_unknown_kwargs(kwargs, loop.create_connection)
        if refused is not None:
            raise ValueError(refused)
        # websockets defaults host and port to the URI's unless a socket is given; then asyncio
        # takes an explicit None, 0 or both with a socket as they are.
        host = kwargs.get("host", wsuri.host if sock is None else None)
        port = kwargs.get("port", wsuri.port if sock is None else None)
        if host is not None or port is not None:
            if sock is not None:
                raise ValueError(SOCK_AND_ADDRESS)
            options: dict[str, Any] = {
                name: kwargs[name]
                for name in ("family", "proto", "flags", "local_addr")
                if name in kwargs
            }
            return await connect_tcp(host, port, **options)
        if sock is None:
            raise ValueError("host and port was not specified and no sock specified")
        if sock.type != socket.SOCK_STREAM:
            raise ValueError(f"A Stream Socket was expected, got {sock!r}")
    sock.setblocking(False)
    return sock


def _given_socket(kwargs: dict[str, Any]) -> socket.socket | None:
    """The socket the application passed as ``sock``, if any."""
    sock: socket.socket | None = kwargs.get("sock")
    return sock


def _refuse_unknown_kwargs(kwargs: dict[str, Any], method: Callable[..., Any]) -> None:
    """
    Raise the :exc:`TypeError` that the event loop's ``method`` raises in websockets for a
    keyword argument it doesn't take, such as the ``proxy_*`` ones that only the connection to
    an HTTP proxy takes.
    """
    given = [name for name in kwargs if name != "unix"]
    if not given:  # as usual: reading the signature costs more than the rest of connecting
        return
    accepted = inspect.signature(method).parameters
    for name in given:
        if name not in accepted:
            # Python names the method by its qualified name, Cython (uvloop) by its name.
            function = getattr(method, "__func__", method)
            label = function.__qualname__ if inspect.isfunction(function) else function.__name__
            raise TypeError(f"{label}() got an unexpected keyword argument {name!r}")


async def _connect_unix(path: PathLike) -> socket.socket:
    """A socket connected to the Unix socket at ``path``."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, os.fspath(path))
    except BaseException:
        sock.close()
        raise
    return sock
