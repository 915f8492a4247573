"""The connection shared by clients and servers: picows callbacks turned into awaitables.

:class:`Connection` is the :class:`picows.WSListener` of one WebSocket connection. picows parses
frames and calls :meth:`Connection.on_ws_frame` synchronously with a buffer that is only valid
during the call; the connection copies what it keeps into a bounded queue of frames, wakes at most
one waiting :meth:`~Connection.recv`, and pauses reading from the socket when the queue is above
its high-water mark. Sending writes frames straight to the transport and waits only while the
transport's write buffer is above ``write_limit``. The closing handshake, keepalive and the
exceptions raised to the application follow ``websockets.asyncio``.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import random
import struct
import traceback
import uuid
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NoReturn, overload

from picows import WSCloseCode, WSListener, WSMsgType, WSTransport

from ..exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    PayloadTooBig,
    ProtocolError,
    TooManyFragments,
)
from ..extensions.permessage_deflate import PerMessageDeflate
from ..frames import OK_CLOSE_CODES, Close, CloseCode, Frame, Opcode
from ..protocol import State

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..datastructures import Headers
    from ..extensions.base import Extension
    from ..http11 import Request, Response
    from ..typing import Data, DataLike, LoggerLike

__all__ = ["Connection", "broadcast", "core_logger"]

TEXT = WSMsgType.TEXT
BINARY = WSMsgType.BINARY
CONTINUATION = WSMsgType.CONTINUATION
PING = WSMsgType.PING
PONG = WSMsgType.PONG
CLOSE = WSMsgType.CLOSE

# compat's opcodes for picows' message types, and back, for frames that extensions transform.
OPCODES = {
    CONTINUATION: Opcode.CONT,
    TEXT: Opcode.TEXT,
    BINARY: Opcode.BINARY,
    CLOSE: Opcode.CLOSE,
    PING: Opcode.PING,
    PONG: Opcode.PONG,
}
MSG_TYPES = {opcode: msg_type for msg_type, opcode in OPCODES.items()}

BytesLike = (bytes, bytearray, memoryview)
UTF8Decoder = codecs.getincrementaldecoder("utf-8")
OPEN, CLOSING, CLOSED = State.OPEN, State.CLOSING, State.CLOSED

# Headers whose values carry credentials. The opening handshake is logged at DEBUG as in
# websockets, except that these values are replaced, so that no log holds a secret.
CREDENTIALS = frozenset({"authorization", "proxy-authorization"})
REDACTED = "[redacted]"


class _WriteAborted(Exception):
    """An extension failed encoding a frame and the connection was aborted."""


class CoreLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The log of picows itself, quieter than picows' default.

    compat logs connection events as websockets does and reports framing errors to the application
    through close codes and exceptions, so picows' own messages about the same events are demoted to
    DEBUG. Messages carrying a traceback (a failure inside compat) keep their level.
    """

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if level < logging.CRITICAL and not kwargs.get("exc_info"):
            level = min(level, logging.DEBUG)
        super().log(level, msg, *args, **kwargs)


core_logger = CoreLogger(logging.getLogger("compat.core"), {})

# compat runs picows on asyncio's own transports rather than aiofastnet's: throughput is the
# same on loopback, idle connections are lighter, and TLS errors are the standard library's,
# as in websockets.
USE_AIOFASTNET = False

# Initial size of picows' read buffer for each connection. picows doubles it whenever a frame
# doesn't fit, so a small start costs a few reallocations for large messages and keeps idle
# connections as light as websockets' (picows' default, 16 KiB, would triple their memory).
READ_BUFFER_SIZE = 2048

# The most frames recv() joins into one message: more fail the connection with 1009. Read from
# the environment at import, as websockets does; recv_streaming() has no such bound.
MAX_FRAGMENTS = int(os.environ.get("WEBSOCKETS_MAX_FRAGMENTS", "4096"))


def limits(value: int | tuple[int | None, int | None] | None) -> tuple[int | None, int | None]:
    """Split a ``max_queue`` / ``max_size`` argument into its two bounds."""
    if isinstance(value, tuple):
        return value
    return value, None


def queue_bounds(
    max_queue: int | tuple[int | None, int | None] | None,
) -> tuple[int | None, int | None]:
    """High- and low-water marks of the frame queue; the low one defaults to a quarter."""
    high, low = limits(max_queue)
    if high is not None and low is None:
        low = high // 4
    if high is None and low is not None:
        high = low * 4
    if high is not None and low is not None and not 0 <= low <= high:
        raise ValueError("max_queue must satisfy 0 <= low <= high")
    return high, low


class Connection(WSListener):
    """A WebSocket connection, as :class:`websockets.asyncio.connection.Connection`.

    Instances are created by :func:`~compat.asyncio.client.connect` and
    :func:`~compat.asyncio.server.serve`; applications never create them directly.
    """

    # Slots keep an idle connection small; ``__dict__`` still lets applications attach their own
    # attributes, as they do to websockets' connections.
    __slots__ = (
        "__dict__",
        "_aborted",
        "_base_logger",
        "_close_rcvd",
        "_close_rcvd_then_sent",
        "_close_sent",
        "_close_timer",
        "_closed",
        "_connection_exc",
        "_discarding",
        "_drain_waiters",
        "_eof_exc",
        "_eof_logged",
        "_expect_continuation",
        "_extensions",
        "_fast_frames",
        "_frames",
        "_id",
        "_incoming_compressed",
        "_incoming_size",
        "_incoming_text",
        "_keepalive_task",
        "_keepalive_timer",
        "_logger",
        "_pings",
        "_plain_writes",
        "_raw",
        "_reading_paused",
        "_recv_in_progress",
        "_recv_waiter",
        "_send_in_progress",
        "_state",
        "_subprotocol",
        "_writing_paused",
        "close_timeout",
        "debug",
        "deflate",
        "is_client",
        "latency",
        "loop",
        "max_fragment_size",
        "max_message_size",
        "ping_interval",
        "ping_timeout",
        "queue_high",
        "queue_low",
        "request",
        "response",
        "transport",
        "write_high",
        "write_low",
    )

    request: Request | None
    response: Response | None
    # compat's permessage-deflate when it is the only extension; it has fast paths.
    deflate: PerMessageDeflate | None
    # The extensions that frames go through otherwise, if any.
    _extensions: list[Extension] | None

    def __init__(
        self,
        *,
        is_client: bool,
        logger: LoggerLike,
        ping_interval: float | None = 20,
        ping_timeout: float | None = 20,
        close_timeout: float | None = 10,
        max_size: int | tuple[int | None, int | None] | None = 2**20,
        max_queue: int | tuple[int | None, int | None] | None = 16,
        write_limit: int | tuple[int, int | None] = 2**15,
        extensions: Sequence[Extension] = (),
        subprotocol: str | None = None,
    ) -> None:
        # The id and the logger adapter are created when first used: most idle connections
        # never log.
        self._id: uuid.UUID | None = None
        self._base_logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self._logger: LoggerLike | None = None
        # Whether the logger shows DEBUG messages, checked once as websockets does. Unless it
        # does, frames take the fast paths, which never log.
        self.debug = self._base_logger.isEnabledFor(logging.DEBUG)
        if self.debug:
            # websockets logs the first state before its connection exists: not in ``extra``.
            self._base_logger.debug("= connection is %s", State.CONNECTING.name)
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.close_timeout = close_timeout
        self.max_message_size, self.max_fragment_size = limits(max_size)
        self.queue_high, self.queue_low = queue_bounds(max_queue)
        if isinstance(write_limit, int):
            self.write_high, self.write_low = write_limit, None
        else:
            self.write_high, self.write_low = write_limit
        self.is_client = is_client
        self._subprotocol = subprotocol
        self.request = None
        self.response = None
        self.latency: float = 0.0

        self.loop = asyncio.get_running_loop()
        self.transport: WSTransport
        self._raw: asyncio.Transport
        self._state = State.CONNECTING
        self._aborted = False  # compat aborted the TCP connection
        self._eof_logged = False  # the end of the stream was logged as sent
        self._close_sent: Close | None = None
        self._close_rcvd: Close | None = None
        self._close_rcvd_then_sent: bool | None = None
        self._connection_exc: BaseException | None = None
        self._eof_exc: EOFError | None = None
        self._discarding = False
        self._use_extensions(extensions)
        self._closed = self.loop.create_future()
        self._close_timer: asyncio.TimerHandle | None = None

        # Receiving: a queue of (is_text, payload, fin) frames of data messages, created with
        # the first frame so that idle connections don't hold one.
        self._frames: deque[tuple[bool, bytes, bool]] | None = None
        self._recv_waiter: asyncio.Future[None] | None = None
        self._recv_in_progress = False
        self._reading_paused = False
        self._incoming_text: bool | None = None  # type of the message being received
        self._incoming_compressed = False
        self._incoming_size = 0

        # Sending.
        self._send_in_progress: asyncio.Future[None] | None = None
        self._expect_continuation = False
        self._writing_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []

        # Pings.
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._keepalive_timer: asyncio.TimerHandle | None = None
        # Runs a keepalive ping through a ping() that a subclass overrides.
        self._keepalive_task: asyncio.Task[None] | None = None

    @property
    def id(self) -> uuid.UUID:
        """Unique identifier of the connection, useful in logs."""
        if self._id is None:
            self._id = uuid.uuid4()
        return self._id

    @id.setter
    def id(self, value: uuid.UUID) -> None:
        self._id = value

    @property
    def logger(self) -> LoggerLike:
        """Logger of the connection: the ``logger`` argument, with the connection in ``extra``."""
        if self._logger is None:
            self._logger = logging.LoggerAdapter(self._base_logger, {"websocket": self})
        return self._logger

    @logger.setter
    def logger(self, value: LoggerLike) -> None:
        self._logger = value

    def _use_extensions(self, extensions: Sequence[Extension]) -> None:
        """
        Apply the extensions negotiated in the opening handshake.

        compat's own permessage-deflate, alone, keeps the fast paths of receiving and sending;
        other extensions see every frame, in websockets' order.
        """
        self.deflate = None
        self._extensions = None
        if len(extensions) == 1 and type(extensions[0]) is PerMessageDeflate:
            self.deflate = extensions[0]
        elif extensions:
            self._extensions = list(extensions)
        # Whether data frames are written as given, and on_ws_frame may take its fast path:
        # not when frames are logged.
        self._plain_writes = not extensions and not self.debug
        self._fast_frames = self._extensions is None and not self._discarding and not self.debug

    def _log_info(self, msg: str, *args: object) -> None:
        """Log at INFO, creating the logger adapter only if the record will be emitted."""
        if self._logger is not None or self._base_logger.isEnabledFor(logging.INFO):
            self.logger.info(msg, *args)

    def _set_state(self, state: State) -> None:
        """Enter ``state``, logging it at DEBUG as websockets logs every state change."""
        if self.debug:
            self.logger.debug("= connection is %s", state.name)
        self._state = state

    def _log_request(self, request: Request) -> None:
        """Log the handshake request at DEBUG: the one a client sends, a server receives."""
        if self.is_client:
            self.logger.debug("> GET %s HTTP/1.1", request.path)
        else:
            self.logger.debug("< %s %s %s", request.method, request.path, request.protocol)
        self._log_headers(not self.is_client, request.headers)

    def _log_response(self, response: Response) -> None:
        """Log the handshake response at DEBUG: the one a client receives, a server sends."""
        code, phrase = response.status_code, response.reason_phrase
        if self.is_client:
            self.logger.debug("< HTTP/1.1 %d %s", code, phrase)
        else:
            self.logger.debug("> HTTP/1.1 %d %s", code, phrase)
        self._log_headers(self.is_client, response.headers, response.body)

    def _log_headers(
        self, incoming: bool, headers: Headers, body: bytes | bytearray = b""
    ) -> None:
        """Log header lines, with credentials redacted, and the size of the body, if any."""
        for name, value in headers.raw_items():
            shown = REDACTED if name.lower() in CREDENTIALS else value
            self.logger.debug("< %s: %s" if incoming else "> %s: %s", name, shown)
        if body:
            size = len(body)
            self.logger.debug("< [body] (%d bytes)" if incoming else "> [body] (%d bytes)", size)

    # picows callbacks

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self._set_state(OPEN)
        self._raw = transport.underlying_transport
        self._raw.set_write_buffer_limits(self.write_high, self.write_low)
        self._schedule_keepalive()

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        msg_type = frame.msg_type
        if (
            (msg_type is TEXT or msg_type is BINARY)
            and frame.fin
            and self._incoming_text is None
            and not (frame.rsv1 or frame.rsv2 or frame.rsv3)
            and self._fast_frames
            and not transport.is_close_frame_sent
        ):
            # Fast path: a whole uncompressed message. picows already enforced max_size on it.
            self._enqueue((msg_type is TEXT, frame.get_payload_as_bytes(), True))
            return
        if self._discarding:
            return
        if (
            self._close_sent is None
            and transport.is_close_frame_sent
            and (not frame.last_in_buffer or frame.tail_size == 0)
        ):
            # picows found a framing error and closed with 1002 or 1009 by itself. It parses one
            # frame ahead, so the frame just before the faulty one still arrives: it is the last
            # of its read with bytes after it. Anything else came later and is dropped, as
            # websockets drops everything after failing the connection.
            self._closed_by_core(transport)
            return
        try:
            if self._extensions is not None:
                self._receive_extended(msg_type, frame)
            elif frame.rsv2 or frame.rsv3:
                raise ProtocolError("reserved bits must be 0")
            elif msg_type is TEXT or msg_type is BINARY or msg_type is CONTINUATION:
                self._receive_data(msg_type, frame)
            elif frame.rsv1:
                raise ProtocolError("reserved bits must be 0")
            else:
                payload = frame.get_payload_as_bytes()
                if self.debug:
                    self.logger.debug("< %s", Frame(OPCODES[msg_type], payload))
                if msg_type is PING:
                    self._send_control(PONG, payload)
                elif msg_type is PONG:
                    self._acknowledge_pings(payload)
                else:
                    self._receive_close(Close.parse(payload), payload)
        except ProtocolError as exc:
            self._fail_on_receive(CloseCode.PROTOCOL_ERROR, str(exc), exc)
        except PayloadTooBig as exc:
            if exc.current_size is None and self._incoming_text is not None:
                exc.set_current_size(self._incoming_size)
            self._fail_on_receive(CloseCode.MESSAGE_TOO_BIG, str(exc), exc)
        except UnicodeDecodeError as exc:
            self._fail_on_receive(
                CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}", exc
            )
        except Exception as exc:
            if self._extensions is None:
                # Without extensions, nothing above raises anything else: this is a bug in
                # compat, left for picows to report.
                raise  # pragma: no cover
            # An extension failed: don't tell the peer why, as websockets doesn't.
            self.logger.error("parser failed", exc_info=True)
            self._fail_on_receive(CloseCode.INTERNAL_ERROR, "", exc)

    def _closed_by_core(self, transport: WSTransport) -> bool:
        """Record the close frame picows sent on a framing error, and stop receiving.

        Return whether picows had sent one that wasn't recorded yet.
        """
        handshake = transport.close_handshake
        failed = self._close_sent is None and handshake is not None and handshake.sent is not None
        if failed:
            assert handshake is not None and handshake.sent is not None
            code, reason = handshake.sent.code.value, handshake.sent.reason or ""
            if self.debug:
                payload = code.to_bytes(2, "big") + reason.encode()
                self.logger.debug("> %s", Frame(Opcode.CLOSE, payload))
            self._close_sent = Close(code, reason)
            if self._close_rcvd is not None:
                self._close_rcvd_then_sent = True
            # No close frame recorded as sent: the connection is still OPEN.
            if self._state is OPEN:  # pragma: no branch
                self._set_state(CLOSING)
            if self.debug:
                # picows closes the TCP connection soon after its close frame.
                self.logger.debug("> EOF")
                self.logger.debug("x closing TCP connection")
                self._eof_logged = True
        self._discarding = True
        self._fast_frames = False
        return failed

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        # Whether frames were still read when the stream ended, as opposed to discarded after
        # the closing handshake or a failure.
        reading = not self._discarding
        if self._closed_by_core(transport):
            reading = False
        if reading:
            # The stream ended before the closing handshake: as in websockets, ConnectionClosed
            # is then caused by EOFError, unless something else failed the connection.
            self._eof_exc = EOFError("unexpected end of stream")
        eof_sent = self.debug and self._log_stream_end(reading)
        if self.is_client:
            # picows also reports a framing error through wait_disconnected(); the application
            # gets it as ConnectionClosedError, so consume it there.
            reporter = self.loop.create_task(transport.wait_disconnected())
            reporter.add_done_callback(_retrieve)
        self._set_state(CLOSED)
        if self._close_timer is not None:
            self._close_timer.cancel()
        if self._keepalive_timer is not None:
            self._keepalive_timer.cancel()
        if self._keepalive_task is not None:
            self._keepalive_task.cancel()
        waiter = self._recv_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if self._pings:
            exc = self.close_exc
            for pong_waiter, _ in self._pings.values():
                if not pong_waiter.done():
                    pong_waiter.set_exception(exc)
                    pong_waiter.exception()  # mark as retrieved
            self._pings.clear()
        for drain_waiter in self._drain_waiters:
            if not drain_waiter.done():
                drain_waiter.set_result(None)
        # picows reports the end of a connection it took over once; only ServerConnection's
        # _handshake_ended() also resolves _closed, for connections picows never took over.
        if not self._closed.done():  # pragma: no branch
            self._closed.set_result(None)
        self.connection_closed()
        if eof_sent and not self._aborted:
            self._log_tcp_close()

    def _log_stream_end(self, reading: bool) -> bool:
        """Log the end of the stream as websockets does on receiving EOF; return whether it
        sends EOF then.

        A connection still reading frames logs ``< EOF`` and fails, which makes a server send
        EOF; a client answers the end of the stream with EOF. Neither sends it twice.
        """
        if reading:
            self.logger.debug("< EOF")
        if self._eof_logged or not (reading or self.is_client):
            return False
        self.logger.debug("> EOF")
        self._eof_logged = True
        return True

    def _log_tcp_close(self) -> None:
        """Log how websockets ends its side of the TCP connection after sending EOF."""
        if self._raw.can_write_eof():
            self.logger.debug("x half-closing TCP connection")
        else:
            self.logger.debug("x closing TCP connection")

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)

    def connection_closed(self) -> None:
        """Hook for subclasses, called once the TCP connection is closed."""

    # Receiving

    def _receive_data(self, msg_type: WSMsgType, frame: Any) -> None:
        """Receive a data frame, checked in websockets' order: its reserved bits, its size and
        its compression, then, once it is logged, whether it fits in the message received."""
        in_message = self._incoming_text is not None
        if msg_type is CONTINUATION:
            compressed = in_message and self._incoming_compressed
            if frame.rsv1:
                raise ProtocolError(
                    "RSV1 bit set in continuation frame"
                    if compressed
                    else "reserved bits must be 0"
                )
        else:
            compressed = bool(frame.rsv1)
            if compressed and self.deflate is None:
                raise ProtocolError("reserved bits must be 0")
        fin = frame.fin
        limit = self.max_message_size
        if limit is not None and in_message:
            limit -= self._incoming_size
        if self.max_fragment_size is not None:
            limit = self.max_fragment_size if limit is None else min(limit, self.max_fragment_size)
        if limit is not None and frame.payload_size > limit:
            raise PayloadTooBig(frame.payload_size, limit)
        if compressed:
            assert self.deflate is not None
            data = self.deflate.decode_frame(
                frame.get_payload_as_memoryview(), fin=fin, max_size=limit
            )
        else:
            data = frame.get_payload_as_bytes()
        if self.debug:
            self.logger.debug("< %s", Frame(OPCODES[msg_type], data, bool(fin)))
        if msg_type is CONTINUATION:
            if not in_message:
                raise ProtocolError("unexpected continuation frame")
            is_text = bool(self._incoming_text)
        else:
            if in_message:
                raise ProtocolError("expected a continuation frame")
            is_text = msg_type is TEXT
            self._incoming_compressed = compressed
            self._incoming_size = 0
        if fin:
            self._incoming_text = None
        else:
            self._incoming_text = is_text
            self._incoming_size += len(data)
        self._enqueue((is_text, data, fin))

    def _enqueue(self, item: tuple[bool, bytes, bool]) -> None:
        """Queue a data frame, wake a waiting recv, pause reading above the high-water mark."""
        frames = self._frames
        if frames is None:
            frames = self._frames = deque()
        frames.append(item)
        waiter = self._recv_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        high = self.queue_high
        if high is not None and len(frames) > high and not self._reading_paused:
            self._reading_paused = True
            self._raw.pause_reading()

    def _receive_extended(self, msg_type: WSMsgType, raw: Any) -> None:
        """
        Receive a frame through the extensions, as websockets does: check its size, decode it
        in the reverse order of negotiation, check it, then handle what it became.
        """
        assert self._extensions is not None
        current = self._incoming_size if self._incoming_text is not None else None
        max_size = self.max_message_size
        if max_size is not None and current is not None:
            max_size -= current
        fragment = self.max_fragment_size
        if fragment is not None:
            max_size = fragment if max_size is None else min(max_size, fragment)
        if max_size is not None and raw.payload_size > max_size:
            raise PayloadTooBig(raw.payload_size, max_size)
        frame = Frame(
            OPCODES[msg_type],
            raw.get_payload_as_bytes(),
            bool(raw.fin),
            bool(raw.rsv1),
            bool(raw.rsv2),
            bool(raw.rsv3),
        )
        for extension in reversed(self._extensions):
            frame = extension.decode(frame, max_size=max_size)
        frame.check()
        if self.debug:
            self.logger.debug("< %s", frame)
        opcode, data, fin = frame.opcode, bytes(frame.data), frame.fin
        if opcode == Opcode.TEXT or opcode == Opcode.BINARY:
            if current is not None:
                raise ProtocolError("expected a continuation frame")
            is_text = opcode == Opcode.TEXT
        elif opcode == Opcode.CONT:
            if current is None:
                raise ProtocolError("unexpected continuation frame")
            is_text = bool(self._incoming_text)
        else:
            if opcode == Opcode.PING:
                self._send_control(PONG, data)
            elif opcode == Opcode.PONG:
                self._acknowledge_pings(data)
            else:
                # Parsed as the extensions returned it, as websockets does: a memoryview fails
                # Close.parse, an internal error (1011).
                self._receive_close(Close.parse(frame.data), data)
            return
        if fin:
            self._incoming_text = None
            self._incoming_size = 0
        else:
            self._incoming_text = is_text
            self._incoming_size = (current or 0) + len(data)
        self._enqueue((is_text, data, fin))

    def _receive_close(self, close: Close, payload: bytes) -> None:
        """The peer's close frame, parsed, and its payload, to echo while the connection is open."""
        self._close_rcvd = close
        if self._state is CLOSING:
            self._close_rcvd_then_sent = False
        # RFC 6455 5.4 lets control frames interrupt a fragmented message: a close ends the
        # connection normally and the incomplete message is dropped (websockets fails with 1002).
        if self._state is OPEN:
            self._send_close_frame(payload)
            self._close_sent = close
            self._close_rcvd_then_sent = True
            self._set_state(CLOSING)
        self._end_of_stream()

    def _send_close_frame(self, payload: bytes) -> None:
        """Send a close frame with ``payload``, then let picows drop whatever it would send.

        Once the close frame is out, picows must not write another one of its own (it would if
        it found a framing error in what the peer sends next, possibly after the server's
        half-close), so the frame goes through ``send_close``, which records it, unless an
        extension changed it.
        """
        if self.debug:
            self.logger.debug("> %s", Frame(Opcode.CLOSE, payload))
        if self._extensions is not None:
            frame = self._encode(Frame(Opcode.CLOSE, payload))
            if frame != Frame(Opcode.CLOSE, payload):
                self._send_frame(frame)
                return
        if payload:
            code = int.from_bytes(payload[:2], "big")
            self.transport.send_close(WSCloseCode(code), payload[2:])
        else:
            self.transport.send(CLOSE, payload)

    def _fail_on_receive(self, code: int, reason: str, exc: Exception) -> None:
        self._set_connection_exc(exc)
        self._fail(code, reason)

    def _fail(self, code: int, reason: str = "") -> None:
        """Fail the connection as RFC 6455 7.1.7 says: send a close frame, stop reading."""
        if self._state is OPEN and code != CloseCode.ABNORMAL_CLOSURE:
            close = Close(code, reason)
            self._send_close_frame(close.serialize())
            self._close_sent = close
            if self._close_rcvd is not None:
                self._close_rcvd_then_sent = True
            self._set_state(CLOSING)
        self._end_of_stream()

    def _end_of_stream(self) -> None:
        """Discard further frames; the server closes TCP, both sides bound the wait."""
        self._discarding = True
        self._fast_frames = False
        if not self.is_client and self.debug:
            self.logger.debug("> EOF")
            self._eof_logged = True
        if not self.is_client and not self._raw.is_closing():
            if self.debug:
                self._log_tcp_close()
            if self._raw.can_write_eof():
                try:
                    self._raw.write_eof()
                except OSError:  # the peer is gone already
                    self._raw.close()
            else:
                self._raw.close()
        self._arm_close_timer()
        # Let a pending recv() see the end of the stream once TCP closes.
        if self._reading_paused:
            self._reading_paused = False
            self._raw.resume_reading()

    def _arm_close_timer(self) -> None:
        if self._close_timer is None and self.close_timeout is not None:
            self._close_timer = self.loop.call_later(self.close_timeout, self._close_timed_out)

    def _close_timed_out(self) -> None:
        if self._state is not CLOSED:
            self._set_connection_exc(TimeoutError("timed out while closing connection"))
            self._aborted = True
            self._raw.abort()

    def _set_connection_exc(self, exc: BaseException | None) -> None:
        if self._connection_exc is None:
            self._connection_exc = exc

    def _maybe_resume_reading(self) -> None:
        """Resume reading once the queue is down to its low-water mark.

        Only called while reading is paused: callers check ``_reading_paused`` first.
        """
        low = self.queue_low
        if low is not None and len(self._frames or ()) <= low:
            self._reading_paused = False
            self._raw.resume_reading()

    async def _next_frame(self) -> tuple[bool, bytes, bool] | None:
        """Wait for the next data frame; ``None`` once the connection is closed."""
        while not self._frames:
            if self._state is CLOSED:
                return None
            waiter = self.loop.create_future()
            self._recv_waiter = waiter
            try:
                await waiter
            finally:
                self._recv_waiter = None
        frame = self._frames.popleft()
        if self._reading_paused:
            self._maybe_resume_reading()
        return frame

    @overload
    async def recv(self, decode: Literal[True]) -> str: ...

    @overload
    async def recv(self, decode: Literal[False]) -> bytes: ...

    @overload
    async def recv(self, decode: bool | None = None) -> Data: ...

    async def recv(self, decode: bool | None = None) -> Data:
        """Receive the next message: :class:`str` for text, :class:`bytes` for binary.

        Raises :exc:`~compat.exceptions.ConnectionClosed` once the connection is closed and
        every message received before the close was returned. Canceling is safe: no message
        is lost.
        """
        if self._recv_in_progress:
            raise ConcurrencyError(
                "cannot call recv while another coroutine is already running recv or recv_streaming"
            )
        frames = self._frames
        if frames and frames[0][2]:
            # Fast path: a whole single-frame message is waiting.
            is_text, data, _ = frames.popleft()
            if self._reading_paused:
                self._maybe_resume_reading()
        else:
            # Wait here rather than in nested coroutines: an idle connection spends its life
            # in this frame, and each level of nesting would hold another one.
            self._recv_in_progress = True
            parts: list[tuple[bool, bytes, bool]] = []
            try:
                while not parts or not parts[-1][2]:
                    frames = self._frames
                    if frames:
                        if len(parts) >= MAX_FRAGMENTS and parts:
                            break
                        parts.append(frames.popleft())
                        if self._reading_paused:
                            self._maybe_resume_reading()
                        continue
                    if self._state is CLOSED:
                        break
                    waiter = self._recv_waiter = self.loop.create_future()
                    try:
                        await waiter
                    except asyncio.CancelledError:
                        # No message is lost: the frames taken so far go back to the queue.
                        if parts:
                            assert self._frames is not None
                            self._frames.extendleft(reversed(parts))
                        raise
                    finally:
                        self._recv_waiter = None
            finally:
                self._recv_in_progress = False
            if not parts or not parts[-1][2]:
                if self._frames:
                    # The loop stopped at MAX_FRAGMENTS, not at the end of the stream.
                    await self._fail_too_many_fragments()
                await self._raise_close_exc()
            is_text = parts[0][0]
            data = parts[0][1] if len(parts) == 1 else b"".join(part[1] for part in parts)
        if decode is None:
            decode = is_text
        if not decode:
            return data
        try:
            return data.decode()
        except UnicodeDecodeError as exc:
            await self._fail_invalid_data(exc)

    @overload
    def recv_streaming(self, decode: Literal[True]) -> AsyncIterator[str]: ...

    @overload
    def recv_streaming(self, decode: Literal[False]) -> AsyncIterator[bytes]: ...

    @overload
    def recv_streaming(self, decode: bool | None = None) -> AsyncIterator[Data]: ...

    async def recv_streaming(self, decode: bool | None = None) -> AsyncIterator[Data]:
        """Receive the next message frame by frame, as an async iterator of fragments.

        The iterator must be consumed fully. As in websockets, once it raises (the connection
        closed or failed) or is canceled after the first fragment, the connection is unusable:
        later calls to :meth:`recv` and :meth:`recv_streaming` raise ConcurrencyError.
        """
        if self._recv_in_progress:
            raise ConcurrencyError(
                "cannot call recv_streaming while another coroutine "
                "is already running recv or recv_streaming"
            )
        self._recv_in_progress = True
        try:
            frame = await self._next_frame()
        except asyncio.CancelledError:
            self._recv_in_progress = False
            raise
        if frame is None:
            await self._raise_close_exc()
        is_text = frame[0]
        if decode is None:
            decode = is_text
        decoder = UTF8Decoder() if decode else None
        while True:
            _, data, fin = frame
            if decoder is None:
                yield data
            else:
                try:
                    text = decoder.decode(data, fin)
                except UnicodeDecodeError as exc:
                    await self._fail_invalid_data(exc)
                yield text
            if fin:
                break
            next_frame = await self._next_frame()
            if next_frame is None:
                await self._raise_close_exc()
            frame = next_frame
        self._recv_in_progress = False

    async def _fail_too_many_fragments(self) -> NoReturn:
        """Drop the rest of a message over ``MAX_FRAGMENTS`` frames and fail with 1009."""
        frames = self._frames
        while frames and not frames.popleft()[2]:
            pass
        self._fail_on_receive(
            CloseCode.MESSAGE_TOO_BIG, "too many fragments", TooManyFragments(MAX_FRAGMENTS)
        )
        await self._wait_closed_and_raise()

    async def _fail_invalid_data(self, exc: UnicodeDecodeError) -> NoReturn:
        self._set_connection_exc(exc)
        self._fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}")
        await self._wait_closed_and_raise()

    async def _raise_close_exc(self) -> NoReturn:
        await asyncio.shield(self._closed)
        raise self.close_exc

    async def __aiter__(self) -> AsyncIterator[Data]:
        """Iterate on incoming messages; the iteration ends quietly on a normal closure."""
        try:
            while True:
                yield await self.recv()
        except ConnectionClosedOK:
            return

    # Sending

    async def _wait_closed_and_raise(self) -> NoReturn:
        """Wait until the connection closes, within ``close_timeout``; raise ConnectionClosed."""
        if self._state is not CLOSED:
            self._arm_close_timer()
            await asyncio.shield(self._closed)
        raise self.close_exc

    async def _drain(self) -> None:
        waiter = self.loop.create_future()
        self._drain_waiters.append(waiter)
        try:
            await waiter
        finally:
            self._drain_waiters.remove(waiter)
        if self._state is CLOSED:
            raise self.close_exc

    def _write(self, msg_type: WSMsgType, data: bytes | bytearray | memoryview, fin: bool) -> None:
        """Write one data frame, encoded by the extensions if any."""
        if msg_type is not CONTINUATION and self._expect_continuation:
            # A fragmented message was interrupted (its send was cancelled): as in websockets,
            # nothing else may be sent until the connection closes.
            raise ProtocolError("expected a continuation frame")
        self._expect_continuation = not fin
        if self._plain_writes:
            self.transport.send(msg_type, data, fin)
            return
        if self.debug:
            self.logger.debug("> %s", Frame(OPCODES[msg_type], data, fin))
        if self.deflate is not None:
            self.transport.send(
                msg_type,
                self.deflate.encode_frame(data, fin=fin),
                fin,
                msg_type is not CONTINUATION,
            )
        elif self._extensions is not None:
            self._send_frame(self._encode(Frame(OPCODES[msg_type], data, fin)))
        else:
            self.transport.send(msg_type, data, fin)

    def _encode(self, frame: Frame) -> Frame:
        """Encode a frame to send with each extension, in the order of negotiation.

        An extension failing with anything but a protocol or concurrency error is a bug: as
        websockets does, log it, abort the connection and let the caller raise ConnectionClosed.
        """
        assert self._extensions is not None
        try:
            for extension in self._extensions:
                frame = extension.encode(frame)
        except (ProtocolError, ConcurrencyError):
            raise
        except Exception as exc:
            self.logger.error("unexpected internal error", exc_info=True)
            self._set_connection_exc(exc)
            self._aborted = True
            self._raw.abort()
            raise _WriteAborted from exc
        return frame

    def _send_frame(self, frame: Frame) -> None:
        """Write a frame that extensions encoded, with the reserved bits they set."""
        self.transport.send(
            MSG_TYPES[frame.opcode], frame.data, frame.fin, frame.rsv1, frame.rsv2, frame.rsv3
        )

    def _send_control(self, msg_type: WSMsgType, data: bytes) -> None:
        """Send a ping or a pong, encoded by the extensions if any."""
        if self.debug:
            self.logger.debug("> %s", Frame(OPCODES[msg_type], data))
        if self._extensions is None:
            self.transport.send(msg_type, data)
        else:
            self._send_frame(self._encode(Frame(OPCODES[msg_type], data)))

    async def send(
        self,
        message: DataLike | Iterable[DataLike] | AsyncIterable[DataLike],
        *,
        text: bool | None = None,
    ) -> None:
        """Send a message: text for :class:`str`, binary for bytes-like, fragmented for iterables.

        ``text`` overrides the frame type. Iterables and async iterables of str or bytes-like
        chunks are sent as one fragmented message.
        """
        if (
            self._state is OPEN
            and self._send_in_progress is None
            and self._plain_writes
            and not self._expect_continuation
        ):
            # Fast path: picows frames str (as UTF-8) and bytes-like objects itself.
            if isinstance(message, str):
                self.transport.send(BINARY if text is False else TEXT, message)
            elif isinstance(message, BytesLike):
                self.transport.send(TEXT if text is True else BINARY, message)
            else:
                await self._send_other(message, text)
                return
            if self._writing_paused:
                await self._drain()
            return
        await self._send_other(message, text)

    async def _send_other(
        self,
        message: DataLike | Iterable[DataLike] | AsyncIterable[DataLike],
        text: bool | None,
    ) -> None:
        """:meth:`send` when the fast path doesn't apply."""
        try:
            await self._send_slowly(message, text)
        except _WriteAborted:
            await self._wait_closed_and_raise()

    async def _send_slowly(
        self,
        message: DataLike | Iterable[DataLike] | AsyncIterable[DataLike],
        text: bool | None,
    ) -> None:
        while self._send_in_progress is not None:
            await asyncio.shield(self._send_in_progress)
        if isinstance(message, str):
            if self._state is not OPEN:
                await self._wait_closed_and_raise()
            self._write(BINARY if text is False else TEXT, message.encode(), True)
        elif isinstance(message, BytesLike):
            if self._state is not OPEN:
                await self._wait_closed_and_raise()
            self._write(TEXT if text is True else BINARY, message, True)
        elif isinstance(message, Mapping):
            raise TypeError("data is a dict-like object")
        elif isinstance(message, Iterable):
            await self._send_fragments(_aiter_sync(iter(message)), text, "iterable")
            return
        elif isinstance(message, AsyncIterable):
            await self._send_fragments(aiter(message), text, "async iterable")
            return
        else:
            raise TypeError("data must be str, bytes, iterable, or async iterable")
        if self._writing_paused:
            await self._drain()

    async def _send_fragments(
        self, chunks: AsyncIterator[DataLike], text: bool | None, kind: str
    ) -> None:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        self._send_in_progress = self.loop.create_future()
        try:
            if isinstance(chunk, str):
                encode = True
                msg_type = BINARY if text is False else TEXT
            elif isinstance(chunk, BytesLike):
                encode = False
                msg_type = TEXT if text is True else BINARY
            else:
                raise TypeError(f"{kind} must contain bytes or str")
            while True:
                if self._state is not OPEN:
                    await self._wait_closed_and_raise()
                data = chunk.encode() if isinstance(chunk, str) else chunk
                self._write(msg_type, data, False)
                msg_type = CONTINUATION
                if self._writing_paused:
                    await self._drain()
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    break
                if isinstance(chunk, str) != encode or not isinstance(chunk, (str, *BytesLike)):
                    raise TypeError(f"{kind} must contain uniform types")
            if self._state is not OPEN:
                await self._wait_closed_and_raise()
            self._write(CONTINUATION, b"", True)
            if self._writing_paused:
                await self._drain()
        except _WriteAborted:
            raise
        except Exception:
            if self._state is OPEN:
                self._fail(CloseCode.INTERNAL_ERROR, "error in fragmented message")
                with contextlib.suppress(ConnectionClosed):
                    await self._wait_closed_and_raise()
            raise
        finally:
            self._send_in_progress.set_result(None)
            self._send_in_progress = None

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Perform the closing handshake, waiting at most ``close_timeout`` for the peer."""
        if self._state is OPEN:
            if self._send_in_progress is not None:
                with contextlib.suppress(_WriteAborted):
                    self._fail(CloseCode.INTERNAL_ERROR, "close during fragmented message")
            else:
                close, payload = _close_frame(code, reason)
                _check_control_frame(payload)
                try:
                    self._send_close_frame(payload)
                except _WriteAborted:
                    pass
                else:
                    self._close_sent = close
                    self._set_state(CLOSING)
                    self._arm_close_timer()
        with contextlib.suppress(ConnectionClosed):
            await self._wait_closed_and_raise()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed."""
        await asyncio.shield(self._closed)

    async def ping(self, data: DataLike | None = None) -> Awaitable[float]:
        """Send a ping; return an awaitable resolving to the latency once the pong arrives."""
        if data is not None:
            data = _control_payload(data)
        if self._state is not OPEN:
            await self._wait_closed_and_raise()
        if data in self._pings:
            raise ConcurrencyError("already waiting for a pong with the same data")
        while data is None or data in self._pings:
            data = struct.pack("!I", random.getrandbits(32))
        pong_waiter: asyncio.Future[float] = self.loop.create_future()
        self._pings[data] = (pong_waiter, self.loop.time())
        _check_control_frame(data)
        try:
            self._send_control(PING, data)
        except _WriteAborted:
            await self._wait_closed_and_raise()
        return pong_waiter

    async def pong(self, data: DataLike = b"") -> None:
        """Send a pong."""
        data = _control_payload(data)
        if self._state is not OPEN:
            await self._wait_closed_and_raise()
        _check_control_frame(data)
        try:
            self._send_control(PONG, data)
        except _WriteAborted:
            await self._wait_closed_and_raise()

    def _acknowledge_pings(self, data: bytes) -> None:
        """Resolve the ping matching ``data`` and every ping sent before it."""
        if data not in self._pings:
            return
        now = self.loop.time()
        acknowledged = []
        # ``data`` is one of the keys: the loop always ends at the break.
        for ping_data, (pong_waiter, sent_at) in self._pings.items():  # pragma: no branch
            acknowledged.append(ping_data)
            if not pong_waiter.done():
                pong_waiter.set_result(now - sent_at)
            if ping_data == data:
                self.latency = now - sent_at
                break
        for ping_data in acknowledged:
            del self._pings[ping_data]

    # Keepalive, on timer callbacks rather than a task per connection.

    def _schedule_keepalive(self, delay: float | None = None) -> None:
        if self.ping_interval is not None and self._state is OPEN:
            self._keepalive_timer = self.loop.call_later(
                self.ping_interval if delay is None else max(delay, 0.0), self._keepalive_ping
            )

    def _keepalive_ping(self) -> None:
        if self._state is not OPEN:
            return
        if type(self).ping is not Connection.ping:
            # A subclass overrides ping(): keepalive pings go through it, as in websockets.
            self._keepalive_task = self.loop.create_task(self._keepalive_overridden_ping())
            return
        data = struct.pack("!I", random.getrandbits(32))
        while data in self._pings:
            data = struct.pack("!I", random.getrandbits(32))
        pong_waiter: asyncio.Future[float] = self.loop.create_future()
        self._pings[data] = (pong_waiter, self.loop.time())
        try:
            self._send_control(PING, data)
        except _WriteAborted:
            return
        self._keepalive_sent(pong_waiter)

    async def _keepalive_overridden_ping(self) -> None:
        """Send a keepalive ping with the overriding ping(); its failure ends keepalive."""
        try:
            pong_waiter = asyncio.ensure_future(await self.ping())
        except Exception:
            self.logger.error("keepalive ping failed", exc_info=True)
            return
        finally:
            self._keepalive_task = None
        self._keepalive_sent(pong_waiter)

    def _keepalive_sent(self, pong_waiter: asyncio.Future[float]) -> None:
        """Wait for the pong of a keepalive ping, at most ``ping_timeout``, then ping again."""
        if self.debug:
            self.logger.debug("% sent keepalive ping")
        if self.ping_timeout is None:
            # No pong is awaited: the next ping follows ping_interval after this one, answered
            # or not.
            self._schedule_keepalive()
            return
        timer = self.loop.call_later(self.ping_timeout, self._keepalive_timed_out, pong_waiter)
        pong_waiter.add_done_callback(lambda waiter: self._keepalive_pong(waiter, timer))

    def _keepalive_pong(
        self, pong_waiter: asyncio.Future[float], timer: asyncio.TimerHandle
    ) -> None:
        timer.cancel()
        if not pong_waiter.cancelled() and pong_waiter.exception() is None:
            if self.debug:
                self.logger.debug("% received keepalive pong")
            assert self.ping_interval is not None
            self._schedule_keepalive(self.ping_interval - pong_waiter.result())

    def _keepalive_timed_out(self, pong_waiter: asyncio.Future[float]) -> None:
        if pong_waiter.done():
            return
        if self.debug:
            self.logger.debug("- timed out waiting for keepalive pong")
        if self._state is OPEN:
            self._fail(CloseCode.INTERNAL_ERROR, "keepalive ping timeout")

    # Properties

    @property
    def state(self) -> State:
        """State of the connection: OPEN, CLOSING or CLOSED."""
        return self._state

    @property
    def subprotocol(self) -> str | None:
        """Subprotocol negotiated during the opening handshake, if any."""
        return self._subprotocol

    @property
    def local_address(self) -> Any:
        """Local address of the connection, as the socket returns it."""
        return self._raw.get_extra_info("sockname")

    @property
    def remote_address(self) -> Any:
        """Remote address of the connection, as the socket returns it."""
        return self._raw.get_extra_info("peername")

    @property
    def close_code(self) -> int | None:
        """Close code received from the peer; 1006 if none; ``None`` until closed."""
        if self._state is not CLOSED:
            return None
        if self._close_rcvd is None:
            return CloseCode.ABNORMAL_CLOSURE
        return self._close_rcvd.code

    @property
    def close_reason(self) -> str | None:
        """Close reason received from the peer; ``""`` if none; ``None`` until closed."""
        if self._state is not CLOSED:
            return None
        if self._close_rcvd is None:
            return ""
        return self._close_rcvd.reason

    @property
    def close_exc(self) -> ConnectionClosed:
        """The exception raised when using a closed connection."""
        rcvd, sent = self._close_rcvd, self._close_sent
        exc_type: type[ConnectionClosed]
        if (
            rcvd is not None
            and sent is not None
            and rcvd.code in OK_CLOSE_CODES
            and sent.code in OK_CLOSE_CODES
        ):
            exc_type = ConnectionClosedOK
        else:
            exc_type = ConnectionClosedError
        exc = exc_type(rcvd, sent, self._close_rcvd_then_sent)
        exc.__cause__ = self._connection_exc if self._connection_exc is not None else self._eof_exc
        return exc

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close normally, or with 1011 (internal error) when leaving on an exception."""
        failed = exc_type is not None
        await self.close(CloseCode.INTERNAL_ERROR if failed else CloseCode.NORMAL_CLOSURE)


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark the outcome of ``task`` as seen."""
    if not task.cancelled():
        task.exception()


def _control_payload(data: DataLike) -> bytes:
    """The payload of a ping or pong given as str or bytes-like."""
    if isinstance(data, BytesLike):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()
    raise TypeError("data must be str or bytes-like")


def _close_frame(code: int | None, reason: str) -> tuple[Close, bytes]:
    """What close(code, reason) records as sent, and the payload of its close frame.

    Without a code, the close frame is empty and the connection records 1005 (no status
    received), as websockets does; a reason needs a code.
    """
    if code is None:
        if reason:
            raise ProtocolError("cannot send a reason without a code")
        return Close(CloseCode.NO_STATUS_RCVD, ""), b""
    close = Close(code, reason)
    return close, close.serialize()


def _check_control_frame(payload: bytes) -> None:
    """Control frames carry at most 125 bytes (RFC 6455 5.5)."""
    if len(payload) > 125:
        raise ProtocolError("control frame too long")


async def _aiter_sync(chunks: Iterable[DataLike]) -> AsyncIterator[DataLike]:
    for chunk in chunks:
        yield chunk


def broadcast(
    connections: Iterable[Connection],
    message: DataLike,
    *,
    text: bool | None = None,
    raise_exceptions: bool = False,
) -> None:
    """Send ``message`` to every open connection without waiting for any of them.

    Connections that aren't open, or are sending a fragmented message, are skipped. Write errors
    are logged, or collected into an :class:`ExceptionGroup` when ``raise_exceptions`` is set.
    """
    if isinstance(message, str):
        msg_type = BINARY if text is False else TEXT
        payload: bytes | bytearray | memoryview = message.encode()
    elif isinstance(message, BytesLike):
        msg_type = TEXT if text is True else BINARY
        payload = message
    else:
        raise TypeError("data must be str or bytes")
    exceptions: list[Exception] = []
    for connection in connections:
        if connection.state is not OPEN:
            continue
        if connection._send_in_progress is not None:
            if raise_exceptions:
                exceptions.append(ConcurrencyError("sending a fragmented message"))
            else:
                connection.logger.warning("skipped broadcast: sending a fragmented message")
            continue
        try:
            connection._write(msg_type, payload, True)
        except Exception as write_exception:
            if raise_exceptions:
                exception = RuntimeError("failed to write message")
                exception.__cause__ = write_exception
                exceptions.append(exception)
            else:
                # The exception as the last line of its traceback: qualified class name and
                # message.
                summary = traceback.format_exception_only(write_exception)[0].strip()
                connection.logger.warning("skipped broadcast: failed to write message: %s", summary)
    if raise_exceptions and exceptions:
        raise ExceptionGroup("skipped broadcast", exceptions)
