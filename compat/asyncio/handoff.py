"""Hand a server connection whose opening handshake compat performed over to the picows core.

compat reads the upgrade request and runs the handshake hooks itself, so that they may be
coroutines, see the connection's addresses, and be bounded by ``open_timeout`` like the TLS
handshake. picows' public server API (``ws_create_server``) only accepts a connection before its
request is read and needs the response at once, so the accepted connection is given to picows'
protocol class, ``picows.picows.WSProtocol``, which is not part of picows' public API.

This module is the only one that uses it. It depends on:

* ``WSProtocol``'s positional constructor, as ``ws_create_server`` calls it in picows 2.x;
* a server-side ``WSProtocol`` answering the first request it reads by calling its listener
  factory, then writing ``response.to_bytes()`` and delivering frames to the listener;
* how picows' ``WSTransport`` writes a frame: on a plain connection it asks the transport's
  ``get_write_buffer_size()`` first, sends the frame with its own ``send()`` if that is 0 and
  hands a copy to the transport's ``write()`` otherwise; on TLS it always hands a copy to
  ``write()``; a server's frame of over 8 KiB goes to ``writelines()``.

It also depends on how picows shows the request a client writes: only in its own log, at its
lowest level (``PICOWS_DEBUG_LL``), as the message :data:`SENT_REQUEST` with the request's bytes;
:class:`RequestWatch` hands those bytes to compat, which logs the request as websockets does.

``tests/test_handoff.py`` and ``tests/test_debug_logs.py`` check them, so that a picows release
that changes them fails loudly.

A TCP or TLS connection compat gives ``WSProtocol`` is behind a :class:`CoalescingTransport`,
which writes the frames sent in one pass of the event loop together (not a plain Unix one,
where sending costs little). picows also sets ``TCP_NODELAY`` on every connection's socket,
which fails on a Unix socket: a Unix connection is behind a :class:`UnixTransport`, which leaves
TCP options alone. Server connections are handed over by :func:`hand_off`; client connections,
established by compat over TCP, TLS, a Unix socket or an HTTP proxy's tunnel, by
:func:`open_client`, as ``ws_connect`` hands a connection established through a proxy to
``WSProtocol``. picows' own ``ws_connect`` writes each frame with a system call of its own.
The transports are asyncio's (or uvloop's), not aiofastnet's: throughput is the same on
loopback, idle connections are lighter, and TLS errors are the standard library's, as in
websockets.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterable, Sequence
from typing import Any

from picows import (
    PICOWS_DEBUG_LL,
    WSAutoPingStrategy,
    WSListener,
    WSTransport,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
)
from picows.picows import WSProtocol  # type: ignore[attr-defined]

from .core import CoreLogger, core_logger

__all__ = ["SYNTHETIC_REQUEST", "CoalescingTransport", "UnixTransport", "hand_off", "open_client"]

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
    protocol.connection_made(_wrapped(transport))
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


async def open_client(
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
    """Run picows' client handshake, then its framing, on an established ``transport``."""
    protocol = _protocol(
        listener_factory,
        client=(netloc, resource, extra_headers),
        logger=logger,
        handshake_timeout=handshake_timeout,
        max_frame_size=max_frame_size,
        read_buffer_size=read_buffer_size,
    )
    wrapped = _wrapped(transport)
    try:
        transport.set_protocol(protocol)
        protocol.connection_made(wrapped)
        await protocol.wait_until_handshake_complete()
    except BaseException:
        wrapped.abort()
        raise
    return protocol.transport, protocol.listener


def _wrapped(transport: asyncio.Transport) -> asyncio.Transport | UnixTransport:
    """Wrap ``transport`` for picows: coalescing on TCP and TLS, TCP options ignored on Unix.

    A plain Unix socket's frames aren't coalesced: sending costs little there, and coalescing
    measured slower.
    """
    sock = transport.get_extra_info("socket")
    unix = sock is not None and sock.family == socket.AF_UNIX
    if transport.get_extra_info("ssl_object") is not None or not unix:
        transport = CoalescingTransport(transport)
    return UnixTransport(transport) if unix else transport


def _feed(protocol: asyncio.BufferedProtocol, data: bytes | bytearray) -> None:
    """Deliver ``data`` to a buffered protocol as the event loop would."""
    view = memoryview(data)
    while view:
        buffer = memoryview(protocol.get_buffer(len(view)))
        size = min(len(buffer), len(view))
        buffer[:size] = view[:size]
        protocol.buffer_updated(size)
        view = view[size:]


# What transports write.
Buffer = bytes | bytearray | memoryview


class CoalescingTransport(asyncio.Transport):
    """A transport as picows sees it: the frames sent in one pass of the event loop go out together.

    picows sends a frame on a plain connection with its own ``send()`` when the transport's
    write buffer is empty, and otherwise, or on TLS, hands a copy of it to the transport's
    ``write``. The first frame of a pass goes out at once and opens a window until the end of
    the pass (a ``loop.call_soon`` callback): while it is open, :meth:`get_write_buffer_size` is
    at least 1, so that picows hands every further frame to :meth:`write`, which keeps it. The
    window writes them in one call when it ends, or as soon as they reach the transport's
    high-water mark, so that flow control still pauses senders. The bytes written, and their
    order, are the same as without it.

    A window that keeps no frame cost a callback for nothing, as when each message waits for
    an answer: windows then open only after 1, 3, 7, then :data:`MAX_BACKOFF` frames sent
    outside one, and again after every such frame once one keeps frames. A window that gets a
    frame over :data:`MAX_KEPT_FRAME` ends there, as keeping such frames costs more than the
    system calls saved, and the next one opens after :data:`LARGE_FRAME_SKIP` frames.

    Closing, half-closing and aborting write the kept frames first, as they would have been
    written without the window: aborting then discards what the socket didn't take, as it does
    anyway. Everything else is the transport's own: the methods are spelled out, as delegating
    through ``__getattr__`` would slow down every attribute access of the hot path.
    """

    __slots__ = (
        "_backoff",
        "_coalescing",
        "_end",
        "_fd",
        "_high",
        "_kept",
        "_loop",
        "_pending",
        "_pending_size",
        "_skip",
        "_transport",
        "_window",
    )

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._window = False  # frames wait for the end of the pass
        self._end: asyncio.Handle | None = None  # the callback ending the window
        self._kept = False  # the window kept a frame
        self._backoff = 0  # frames sent outside a window that open none, after an empty one
        self._skip = 0  # of them, still to send
        self._coalescing = True  # until the transport is closed, half-closed or aborted
        self._high: int = transport.get_write_buffer_limits()[1]
        # The socket's descriptor if the transport joins what writelines() gets into a copy, as
        # asyncio's socket transport does up to Python 3.11; else -1.
        joins = type(transport).writelines is asyncio.WriteTransport.writelines
        sock = transport.get_extra_info("socket")
        self._fd: int = -1
        if sock is not None and joins and hasattr(os, "writev"):
            self._fd = sock.fileno()

    def get_write_buffer_size(self) -> int:
        """Bytes waiting to be sent, at least 1 while a window is open.

        picows asks right before each frame it sends itself: asking outside a window opens one.
        """
        size: int = self._transport.get_write_buffer_size()
        if self._window:
            return size + self._pending_size or 1
        # As _sent_outside_window(), inline: this runs for every frame.
        if self._skip:
            self._skip -= 1
        elif self._coalescing:
            self._open_window()
        return size

    def write(self, data: Buffer) -> None:
        """Write ``data`` at once and open a window, or keep it until the window ends."""
        if not self._window:
            self._transport.write(data)
            self._sent_outside_window()
            return
        chunk = data if type(data) is bytes else bytes(data)
        self._pending.append(chunk)
        self._pending_size += len(chunk)
        if len(chunk) > MAX_KEPT_FRAME:
            assert self._end is not None  # the window's
            self._end.cancel()
            self._window = False
            self._flush()
            self._backoff = MAX_BACKOFF
            self._skip = LARGE_FRAME_SKIP
        else:
            self._kept = True
            if self._pending_size >= self._high:
                self._flush()

    def writelines(self, list_of_data: Iterable[Buffer]) -> None:
        """Write a large frame, picows' header and payload, at once, after the frames kept."""
        if self._pending:
            self._flush()
        elif not self._window:
            self._sent_outside_window()
        buffers = list(list_of_data)
        if not self._writev(buffers, -1):
            self._transport.writelines(buffers)

    def write_eof(self) -> None:
        try:
            self._stop_coalescing()
        finally:
            self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def close(self) -> None:
        try:
            self._stop_coalescing()
        finally:
            self._transport.close()

    def abort(self) -> None:
        try:
            self._stop_coalescing()
        finally:
            self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)
        self._high = self._transport.get_write_buffer_limits()[1]

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def _sent_outside_window(self) -> None:
        """Open a window after a frame sent outside one, unless backing off."""
        if self._skip:
            self._skip -= 1
        elif self._coalescing:
            self._open_window()

    def _open_window(self) -> None:
        self._window = True
        self._kept = False
        self._end = self._loop.call_soon(self._end_window)

    def _end_window(self) -> None:
        self._window = False
        if self._pending:
            self._flush()
        if self._kept:
            self._backoff = 0
        else:
            self._backoff = min(2 * self._backoff + 1, MAX_BACKOFF)
            self._skip = self._backoff

    def _flush(self) -> None:
        """Write the frames kept, in one call."""
        pending, size = self._pending, self._pending_size
        self._pending = []
        self._pending_size = 0
        if not self._writev(pending, size):
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def _writev(self, buffers: Sequence[Buffer], size: int) -> bool:
        """Write ``buffers``, of ``size`` bytes (-1: not counted), without copying them, if
        the transport would copy them.

        That is where the transport is asyncio's socket transport (which joins what
        ``writelines()`` gets, up to Python 3.11) and nothing waits in it: ``buffers`` go to the
        socket in one ``writev()``, and what the socket doesn't take to the transport. Return
        whether they were written.
        """
        transport = self._transport
        if (
            self._fd < 0
            or len(buffers) > IOV_MAX
            or not self._coalescing
            or transport.is_closing()
            or transport.get_write_buffer_size()
        ):
            return False
        try:
            sent = os.writev(self._fd, buffers)
        except OSError:  # the transport tries again, and reports what went wrong
            return False
        if sent != size:
            rest = _after(buffers, sent)
            if rest:
                transport.writelines(rest)
        return True

    def _stop_coalescing(self) -> None:
        """Write the frames kept; write every later one at once."""
        self._coalescing = self._window = False
        if self._pending:
            self._flush()


# The largest frame a window keeps. A larger one ends it: keeping 8 KiB frames measured slower
# than picows sending each itself, keeping 4 KiB ones faster.
MAX_KEPT_FRAME = 6 * 1024

# The most frames sent outside a window that open none, after windows that kept no frame.
MAX_BACKOFF = 15

# The frames sent outside a window that open none after a frame over MAX_KEPT_FRAME. Such frames
# come in runs, where even one window in 16 frames measured slower than none.
LARGE_FRAME_SKIP = 255

# The most buffers one writev() takes.
IOV_MAX = os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 16


def _after(buffers: Sequence[Buffer], count: int) -> list[memoryview]:
    """The bytes of ``buffers`` after the first ``count``."""
    rest = []
    for data in buffers:
        view = memoryview(data).cast("B")
        if count >= len(view):
            count -= len(view)
        else:
            rest.append(view[count:])
            count = 0
    return rest


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


# How picows shows, at its own lowest log level, the opening handshake request it writes.
SENT_REQUEST = "Send upgrade request: %s"


class RequestWatch(CoreLogger):
    """picows' log for one client's opening handshake, handing the request picows wrote to
    :meth:`sent`, as bytes, rather than logging it. Everything else goes to picows' log."""

    def __init__(self) -> None:
        super().__init__(core_logger.logger, {})

    def sent(self, request: bytes) -> None:
        """Called with the bytes of the request picows wrote."""

    def isEnabledFor(self, level: int) -> bool:
        return level == PICOWS_DEBUG_LL or super().isEnabledFor(level)

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if level == PICOWS_DEBUG_LL:
            if msg == SENT_REQUEST and args:
                self.sent(args[0])
                return
            if not self.logger.isEnabledFor(level):
                return
        super().log(level, msg, *args, **kwargs)
