"""Connection state and the closing handshake, the base of every connection.

:class:`Closing` holds what every other part of a connection reads: the state, the logger, the
negotiated extensions and the record of close frames sent and received. It performs the closing
handshake and fails the connection as RFC 6455 says, and it ends the connection when picows
reports the TCP connection closed. Close frames are recorded in :meth:`Closing._closing` only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import TYPE_CHECKING, NoReturn

from picows import WSCloseCode, WSListener, WSTransport

from ..exceptions import (
    ConcurrencyError,
    ConnectionClosed,
    ConnectionClosedError,
    ConnectionClosedOK,
    ProtocolError,
)
from ..extensions.permessage_deflate import PerMessageDeflate
from ..frames import OK_CLOSE_CODES, Close, CloseCode, Frame, Opcode
from ..protocol import State
from .core import CLOSE, MSG_TYPES

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..extensions.base import Extension
    from ..typing import LoggerLike

__all__ = ["CLOSED", "CLOSING", "OPEN", "Closing", "WriteAborted", "check_control_frame"]

OPEN, CLOSING, CLOSED = State.OPEN, State.CLOSING, State.CLOSED


class WriteAborted(Exception):
    """An extension failed encoding a frame and the connection was aborted."""


class Closing(WSListener):
    """The state of a connection, its closing handshake, and the frames extensions encode.

    The layers above (keepalive, message assembly, sending, then :class:`Connection`) build
    on it; it is never instantiated alone.
    """

    __slots__ = (
        "_aborted",
        "_base_logger",
        "_close_rcvd",
        "_close_rcvd_then_sent",
        "_close_sent",
        "_close_timer",
        "_closed",
        "_connection_exc",
        "_discarding",
        "_eof_exc",
        "_eof_logged",
        "_extensions",
        "_fast_frames",
        "_id",
        "_logger",
        "_plain_writes",
        "_raw",
        "_send_in_progress",
        "_state",
        "close_timeout",
        "debug",
        "deflate",
        "is_client",
        "loop",
        "transport",
    )

    # compat's permessage-deflate when it is the only extension; it has fast paths.
    deflate: PerMessageDeflate | None
    # The extensions that frames go through otherwise, if any.
    _extensions: list[Extension] | None

    def __init__(
        self,
        *,
        is_client: bool,
        logger: LoggerLike,
        close_timeout: float | None,
        extensions: Sequence[Extension],
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
        self.close_timeout = close_timeout
        self.is_client = is_client

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
        # Frames are discarded after the closing handshake or a failure.
        self._discarding = False
        self._use_extensions(extensions)
        self._closed = self.loop.create_future()
        self._close_timer: asyncio.TimerHandle | None = None
        # Set while a fragmented message is sent: closing then fails the connection.
        self._send_in_progress: asyncio.Future[None] | None = None

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

    # Frames that extensions encode

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
            self._abort(exc)
            raise WriteAborted from exc
        return frame

    def _send_frame(self, frame: Frame) -> None:
        """Write a frame that extensions encoded, with the reserved bits they set."""
        self.transport.send(
            MSG_TYPES[frame.opcode], frame.data, frame.fin, frame.rsv1, frame.rsv2, frame.rsv3
        )

    # The end of the connection

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
        self._release_waiters()
        # picows reports the end of a connection it took over once; only ServerConnection's
        # _handshake_ended() also resolves _closed, for connections picows never took over.
        if not self._closed.done():  # pragma: no branch
            self._closed.set_result(None)
        self.connection_closed()
        if eof_sent and not self._aborted:
            self._log_tcp_close()

    def _release_waiters(self) -> None:
        """Stop the timers and wake whatever waits on the connection, which is now CLOSED.

        Implemented by :class:`~compat.asyncio.connection.Connection`, which has every part.
        """

    def connection_closed(self) -> None:
        """Hook for subclasses, called once the TCP connection is closed."""

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
            # No close frame recorded as sent: the connection is still OPEN.
            self._closing(Close(code, reason))
            if self.debug:
                # picows closes the TCP connection soon after its close frame.
                self.logger.debug("> EOF")
                self.logger.debug("x closing TCP connection")
                self._eof_logged = True
        self._discarding = True
        self._fast_frames = False
        return failed

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

    # The closing handshake

    def _closing(self, close: Close) -> None:
        """Record ``close`` as sent and enter the CLOSING state."""
        self._close_sent = close
        if self._close_rcvd is not None:
            self._close_rcvd_then_sent = True
        self._set_state(CLOSING)

    def _receive_close(self, close: Close, payload: bytes) -> None:
        """The peer's close frame, parsed, and its payload, to echo while the connection is open."""
        self._close_rcvd = close
        if self._state is CLOSING:
            self._close_rcvd_then_sent = False
        # RFC 6455 5.4 lets control frames interrupt a fragmented message: a close ends the
        # connection normally and the incomplete message is dropped (websockets fails with 1002).
        if self._state is OPEN:
            self._send_close(close, payload)
        self._end_of_stream()

    def _send_close(self, close: Close, payload: bytes) -> None:
        """Send a close frame with ``payload``, record ``close`` as sent, then let picows drop
        whatever it would send.

        Once the close frame is out, picows must not write another one of its own (it would if
        it found a framing error in what the peer sends next, possibly after the server's
        half-close), so the frame goes through ``send_close``, which records it, unless an
        extension changed it.
        """
        if self.debug:
            self.logger.debug("> %s", Frame(Opcode.CLOSE, payload))
        encoded = None if self._extensions is None else self._encode(Frame(Opcode.CLOSE, payload))
        if encoded is not None and encoded != Frame(Opcode.CLOSE, payload):
            self._send_frame(encoded)
        elif payload:
            code = int.from_bytes(payload[:2], "big")
            self.transport.send_close(WSCloseCode(code), payload[2:])
        else:
            self.transport.send(CLOSE, payload)
        self._closing(close)

    def _fail(self, code: int, reason: str = "", exc: BaseException | None = None) -> None:
        """Fail the connection as RFC 6455 7.1.7 says: send a close frame, stop reading.

        ``exc``, if any, becomes the cause of ConnectionClosed unless another came first.
        """
        self._set_connection_exc(exc)
        if self._state is OPEN and code != CloseCode.ABNORMAL_CLOSURE:
            close = Close(code, reason)
            self._send_close(close, close.serialize())
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

    def _arm_close_timer(self) -> None:
        if self._close_timer is None and self.close_timeout is not None:
            self._close_timer = self.loop.call_later(self.close_timeout, self._close_timed_out)

    def _close_timed_out(self) -> None:
        if self._state is not CLOSED:
            self._abort(TimeoutError("timed out while closing connection"))

    def _abort(self, exc: BaseException) -> None:
        """Abort the TCP connection; ``exc`` becomes the cause of ConnectionClosed."""
        self._set_connection_exc(exc)
        self._aborted = True
        self._raw.abort()

    def _set_connection_exc(self, exc: BaseException | None) -> None:
        if self._connection_exc is None:
            self._connection_exc = exc

    async def _wait_closed_and_raise(self) -> NoReturn:
        """Wait until the connection closes, within ``close_timeout``; raise ConnectionClosed."""
        if self._state is not CLOSED:
            self._arm_close_timer()
            await asyncio.shield(self._closed)
        raise self.close_exc

    async def close(self, code: int = CloseCode.NORMAL_CLOSURE, reason: str = "") -> None:
        """Perform the closing handshake, waiting at most ``close_timeout`` for the peer."""
        if self._state is OPEN:
            if self._send_in_progress is not None:
                with contextlib.suppress(WriteAborted):
                    self._fail(CloseCode.INTERNAL_ERROR, "close during fragmented message")
            else:
                close, payload = _close_frame(code, reason)
                check_control_frame(payload)
                with contextlib.suppress(WriteAborted):
                    self._send_close(close, payload)
        with contextlib.suppress(ConnectionClosed):
            await self._wait_closed_and_raise()

    async def wait_closed(self) -> None:
        """Wait until the connection is closed."""
        await asyncio.shield(self._closed)

    @property
    def state(self) -> State:
        """State of the connection: OPEN, CLOSING or CLOSED."""
        return self._state

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


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark the outcome of ``task`` as seen."""
    if not task.cancelled():
        task.exception()


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


def check_control_frame(payload: bytes) -> None:
    """Control frames carry at most 125 bytes (RFC 6455 5.5)."""
    if len(payload) > 125:
        raise ProtocolError("control frame too long")
