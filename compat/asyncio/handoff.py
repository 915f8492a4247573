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
"""

from __future__ import annotations

import asyncio
from typing import Any

from picows import WSAutoPingStrategy, WSListener, WSUpgradeResponse, WSUpgradeResponseWithListener
from picows.picows import WSProtocol  # type: ignore[attr-defined]

__all__ = ["SYNTHETIC_REQUEST", "hand_off"]

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
    protocol = WSProtocol(
        None,  # host and port: client only
        None,  # path: client only
        False,  # server side
        lambda request: answer,
        logger,
        True,  # disconnect_on_exception
        None,  # the handshake timeout: compat's open_timeout already covered it
        False,  # no automatic pings: compat runs keepalive
        20,
        20,
        WSAutoPingStrategy.PING_WHEN_IDLE,
        False,  # no automatic pongs: compat answers pings itself
        max_frame_size,
        None,  # extra headers: client only
        read_buffer_size,
    )
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    _feed(protocol, SYNTHETIC_REQUEST)
    if received:
        _feed(protocol, received)


def _feed(protocol: asyncio.BufferedProtocol, data: bytes | bytearray) -> None:
    """Deliver ``data`` to a buffered protocol as the event loop would."""
    view = memoryview(data)
    while view:
        buffer = memoryview(protocol.get_buffer(len(view)))
        size = min(len(buffer), len(view))
        buffer[:size] = view[:size]
        protocol.buffer_updated(size)
        view = view[size:]
