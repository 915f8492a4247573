"""Message assembly: frames in, messages out, with ``max_queue`` backpressure.

picows parses frames and calls :meth:`Messages.on_ws_frame` synchronously with a buffer that is
only valid during the call. Data frames are checked against ``max_size``, decompressed or decoded
by the extensions, copied into a bounded queue, and joined into messages by :meth:`recv` or
handed out one by one by :meth:`recv_streaming`. Reading from the socket pauses while the queue
is above its high-water mark and resumes at its low-water mark. Control frames go to keepalive
and to the closing handshake.
"""

from __future__ import annotations

import asyncio
import codecs
import os
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal, NoReturn, overload

from picows import WSFrame, WSMsgType, WSTransport

from ..exceptions import (
    ConcurrencyError,
    ConnectionClosedOK,
    PayloadTooBig,
    ProtocolError,
    TooManyFragments,
)
from ..frames import Close, CloseCode, Frame, Opcode
from .closing import CLOSED
from .core import BINARY, CONTINUATION, OPCODES, PING, PONG, TEXT, limits, queue_bounds
from .keepalive import Keepalive

if TYPE_CHECKING:
    from ..typing import Data

__all__ = ["MAX_FRAGMENTS", "Messages"]

UTF8Decoder = codecs.getincrementaldecoder("utf-8")

# The most frames recv() joins into one message: more fail the connection with 1009. Read from
# the environment at import, as websockets does; recv_streaming() has no such bound.
MAX_FRAGMENTS = int(os.environ.get("WEBSOCKETS_MAX_FRAGMENTS", "4096"))


class Messages(Keepalive):
    """Receiving: frames from picows, queued, assembled into messages."""

    __slots__ = (
        "_frames",
        "_incoming_compressed",
        "_incoming_size",
        "_incoming_text",
        "_reading_paused",
        "_recv_in_progress",
        "_recv_waiter",
        "max_fragment_size",
        "max_message_size",
        "queue_high",
        "queue_low",
    )

    def __init__(
        self,
        *,
        max_size: int | tuple[int | None, int | None] | None,
        max_queue: int | tuple[int | None, int | None] | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.max_message_size, self.max_fragment_size = limits(max_size)
        self.queue_high, self.queue_low = queue_bounds(max_queue)
        # A queue of (is_text, payload, fin) frames of data messages, created with the first
        # frame so that idle connections don't hold one.
        self._frames: deque[tuple[bool, bytes, bool]] | None = None
        self._recv_waiter: asyncio.Future[None] | None = None
        self._recv_in_progress = False
        self._reading_paused = False
        self._incoming_text: bool | None = None  # type of the message being received
        self._incoming_compressed = False
        self._incoming_size = 0

    # Frames in

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
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
            self._fail(CloseCode.PROTOCOL_ERROR, str(exc), exc)
        except PayloadTooBig as exc:
            if exc.current_size is None and self._incoming_text is not None:
                exc.set_current_size(self._incoming_size)
            self._fail(CloseCode.MESSAGE_TOO_BIG, str(exc), exc)
        except UnicodeDecodeError as exc:
            self._fail_invalid_data(exc)
        except Exception as exc:
            if self._extensions is None:
                # Without extensions, nothing above raises anything else: this is a bug in
                # compat, left for picows to report.
                raise  # pragma: no cover
            # An extension failed: don't tell the peer why, as websockets doesn't.
            self.logger.error("parser failed", exc_info=True)
            self._fail(CloseCode.INTERNAL_ERROR, "", exc)

    def _receive_data(self, msg_type: WSMsgType, frame: WSFrame) -> None:
        """Receive a data frame, checked in websockets' order: its reserved bits, its size and
        its compression, then, once it is logged, whether it fits in the message received."""
        if msg_type is CONTINUATION:
            compressed = self._incoming_text is not None and self._incoming_compressed
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
        limit = self._check_size(frame)
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
            self._add_frame(None, data, fin)
        else:
            self._add_frame(msg_type is TEXT, data, fin)
            self._incoming_compressed = compressed

    def _receive_extended(self, msg_type: WSMsgType, raw: WSFrame) -> None:
        """
        Receive a frame through the extensions, as websockets does: check its size, decode it
        in the reverse order of negotiation, check it, then handle what it became.
        """
        assert self._extensions is not None
        max_size = self._check_size(raw)
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
            self._add_frame(opcode == Opcode.TEXT, data, fin)
        elif opcode == Opcode.CONT:
            self._add_frame(None, data, fin)
        elif opcode == Opcode.PING:
            self._send_control(PONG, data)
        elif opcode == Opcode.PONG:
            self._acknowledge_pings(data)
        else:
            # Parsed as the extensions returned it, as websockets does: a memoryview fails
            # Close.parse, an internal error (1011).
            self._receive_close(Close.parse(frame.data), data)

    def _check_size(self, frame: WSFrame) -> int | None:
        """Check that a data frame fits in ``max_size``, less the part of the message already
        received, and in the fragment limit; return the lower of the two, if any."""
        limit = self.max_message_size
        if limit is not None and self._incoming_text is not None:
            limit -= self._incoming_size
        if self.max_fragment_size is not None:
            limit = self.max_fragment_size if limit is None else min(limit, self.max_fragment_size)
        if limit is not None and frame.payload_size > limit:
            raise PayloadTooBig(frame.payload_size, limit)
        return limit

    def _add_frame(self, text: bool | None, data: bytes, fin: bool) -> None:
        """Add a data frame to the message being received and queue it.

        ``text`` says whether a frame starting a message starts a text message; it is ``None``
        for a continuation frame.
        """
        if text is None:
            if self._incoming_text is None:
                raise ProtocolError("unexpected continuation frame")
            text = self._incoming_text
        elif self._incoming_text is not None:
            raise ProtocolError("expected a continuation frame")
        else:
            self._incoming_size = 0
        if fin:
            self._incoming_text = None
        else:
            self._incoming_text = text
            self._incoming_size += len(data)
        self._enqueue((text, data, fin))

    def _enqueue(self, item: tuple[bool, bytes, bool]) -> None:
        """Queue a data frame, wake a waiting recv, pause reading above the high-water mark."""
        frames = self._frames
        if frames is None:
            frames = self._frames = deque()
        frames.append(item)
        # As _wake_receiver(), inlined: this runs for every frame.
        waiter = self._recv_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        high = self.queue_high
        if high is not None and len(frames) > high and not self._reading_paused:
            self._reading_paused = True
            self._raw.pause_reading()

    def _wake_receiver(self) -> None:
        """Wake the recv() or recv_streaming() waiting for a frame, if any."""
        waiter = self._recv_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _maybe_resume_reading(self) -> None:
        """Resume reading once the queue is down to its low-water mark.

        Only called while reading is paused: callers check ``_reading_paused`` first.
        """
        low = self.queue_low
        if low is not None and len(self._frames or ()) <= low:
            self._reading_paused = False
            self._raw.resume_reading()

    def _end_of_stream(self) -> None:
        super()._end_of_stream()
        # Let a pending recv() see the end of the stream once TCP closes.
        if self._reading_paused:
            self._reading_paused = False
            self._raw.resume_reading()

    def _fail_invalid_data(self, exc: UnicodeDecodeError) -> None:
        """Fail with 1007 (invalid data): a text message isn't UTF-8."""
        self._fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}", exc)

    # Messages out

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
                await self._wait_closed_and_raise()
            is_text = parts[0][0]
            data = parts[0][1] if len(parts) == 1 else b"".join(part[1] for part in parts)
        if decode is None:
            decode = is_text
        if not decode:
            return data
        try:
            return data.decode()
        except UnicodeDecodeError as exc:
            self._fail_invalid_data(exc)
            await self._wait_closed_and_raise()

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
            await self._wait_closed_and_raise()
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
                    self._fail_invalid_data(exc)
                    await self._wait_closed_and_raise()
                yield text
            if fin:
                break
            next_frame = await self._next_frame()
            if next_frame is None:
                await self._wait_closed_and_raise()
            frame = next_frame
        self._recv_in_progress = False

    async def _fail_too_many_fragments(self) -> NoReturn:
        """Drop the rest of a message over ``MAX_FRAGMENTS`` frames and fail with 1009."""
        frames = self._frames
        while frames and not frames.popleft()[2]:
            pass
        self._fail(
            CloseCode.MESSAGE_TOO_BIG, "too many fragments", TooManyFragments(MAX_FRAGMENTS)
        )
        await self._wait_closed_and_raise()

    async def __aiter__(self) -> AsyncIterator[Data]:
        """Iterate on incoming messages; the iteration ends quietly on a normal closure."""
        try:
            while True:
                yield await self.recv()
        except ConnectionClosedOK:
            return
