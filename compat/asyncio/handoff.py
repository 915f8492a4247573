"""Hand a server connection whose opening handshake compat performed over to the picows core.

compat reads the upgrade request and runs the handshake hooks itself, so that they may be
coroutines, see the connection's addresses, and be bounded by ``open_timeout`` like the TLS
handshake. picows' public server API (``ws_create_server``) only accepts a connection before its
request is read and needs the response at once, so the accepted connection is given to picows'
protocol class, ``picows.picows.WSProtocol``, which is not part of picows' public API.

This module is the only one that uses it. It depends on:

* ``WSProtocol``'s positional constructor, as ``ws_create_server`` calls it in picows 2.x;
* a server-side ``WSProtocol`` answering the first request it reads by calling its listener
  factory, then writing ``response.to_bytes()`` and delivering frames to the listener.

``tests/test_handoff.py`` checks both, so that a picows release that changes them fails loudly.

picows also sets ``TCP_NODELAY`` on every connection's socket, which fails on a Unix socket, and
its client API only creates connections itself. A Unix connection is handed to ``WSProtocol``
behind :class:`UnixTransport`, which leaves TCP options alone, on the server side by
:func:`hand_off` and on the client side by :func:`open_unix_client`, as ``ws_connect`` hands a
connection established through a proxy to it.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from picows import (
    WSAutoPingStrategy,
    WSListener,
    WSTransport,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
)
from picows.picows import WSProtocol  # type: ignore[attr-defined]

__all__ = ["SYNTHETIC_REQUEST", "UnixTransport", "hand_off", "open_unix_client"]

# A request that picows' own parser and validator accept. The real request, already answered by
# compat, never reaches picows; this one only moves picows' protocol into its framing state.
SYNTHETIC_REQUEST = (
    b"GET / HTTP/1.1\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n"
    b"Sec-WebSocket-Version: 13\r\n"
    b"\r\n"
)


def hand_off(
    transport: asyncio.Transport,
    listener: WSListener,
    response: WSUpgradeResponse,
    *,
    received: bytes | bytearray,
    logger: Any,
    max_frame_size: int,
    read_buffer_size: int,
) -> None:
    """Run picows' framing on ``transport`` from now on, with ``listener`` receiving frames.

    picows writes ``response`` (its ``to_bytes()``), then parses ``received``, the bytes that
    arrived after the request, before reading from the socket again.
    """
    answer = WSUpgradeResponseWithListener(response, listener)
    protocol = _protocol(
        lambda request: answer,
        client=None,
        logger=logger,
        handshake_timeout=None,  # compat's open_timeout already covered the handshake
        max_frame_size=max_frame_size,
        read_buffer_size=read_buffer_size,
    )
    transport.set_protocol(protocol)
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family == socket.AF_UNIX:
        protocol.connection_made(UnixTransport(transport))
    else:
        protocol.connection_made(transport)
    _feed(protocol, SYNTHETIC_REQUEST)
    if received:
        _feed(protocol, received)


def _protocol(
    listener_factory: Any,
    *,
    client: tuple[str, str, Any] | None,
    logger: Any,
    handshake_timeout: float | None,
    max_frame_size: int,
    read_buffer_size: int,
) -> Any:
    """A ``WSProtocol``, server side or, given its host, path and headers, client side.

    compat answers pings and runs keepalive itself, so picows' automatic ones are off.
    """
    netloc, resource, extra_headers = client if client is not None else (None, None, None)
    return WSProtocol(
        netloc,
        resource,
        client is not None,
        listener_factory,
        logger,
        True,  # disconnect_on_exception
        handshake_timeout,
        False,  # enable_auto_ping
        20,  # auto_ping_idle_timeout, unused
        20,  # auto_ping_reply_timeout, unused
        WSAutoPingStrategy.PING_WHEN_IDLE,
        False,  # enable_auto_pong
        max_frame_size,
        extra_headers,
        read_buffer_size,
    )


async def open_unix_client(
    transport: asyncio.Transport,
    listener_factory: Any,
    *,
    netloc: str,
    resource: str,
    extra_headers: Any,
    handshake_timeout: float | None,
    logger: Any,
    max_frame_size: int,
    read_buffer_size: int,
) -> tuple[WSTransport, WSListener]:
    """Run picows' client handshake, then its framing, on an established Unix ``transport``."""
    protocol = _protocol(
        listener_factory,
        client=(netloc, resource, extra_headers),
        logger=logger,
        handshake_timeout=handshake_timeout,
        max_frame_size=max_frame_size,
        read_buffer_size=read_buffer_size,
    )
    try:
        transport.set_protocol(protocol)
        protocol.connection_made(UnixTransport(transport))
        await protocol.wait_until_handshake_complete()
    except BaseException:
        transport.abort()
        raise
    return protocol.transport, protocol.listener


def _feed(protocol: asyncio.BufferedProtocol, data: bytes | bytearray) -> None:
    """Deliver ``data`` to a buffered protocol as the event loop would."""
    view = memoryview(data)
    while view:
        buffer = memoryview(protocol.get_buffer(len(view)))
        size = min(len(buffer), len(view))
        buffer[:size] = view[:size]
        protocol.buffer_updated(size)
        view = view[size:]


class UnixTransport:
    """A Unix connection's transport as picows sees it: TCP options on its socket are ignored.

    Everything else is the transport's own; picows caches its ``write`` method, so sending costs
    nothing more.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._socket = _TcpOptionsIgnored(transport.get_extra_info("socket"))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "socket":
            return self._socket
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _TcpOptionsIgnored:
    """A view of a transport's socket whose TCP options read as 0 and ignore writes."""

    def __init__(self, sock: Any) -> None:
        self._socket = sock

    def setsockopt(self, level: int, option: int, value: Any, *args: Any) -> None:
        if level != socket.IPPROTO_TCP:
            self._socket.setsockopt(level, option, value, *args)

    def getsockopt(self, level: int, option: int, *args: Any) -> Any:
        if level == socket.IPPROTO_TCP:
            return 0
        return self._socket.getsockopt(level, option, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._socket, name)
