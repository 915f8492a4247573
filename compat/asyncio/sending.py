"""Sending: messages out as frames, write flow control, and broadcast.

:meth:`Sending.send` writes frames straight to picows' transport and waits only while the
transport's write buffer is above ``write_limit``; iterables and async iterables go out as one
fragmented message. :func:`broadcast` writes a message to many connections without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from picows import WSMsgType

from ..exceptions import ConcurrencyError, ConnectionClosed, ProtocolError
from ..frames import CloseCode, Frame
from .closing import CLOSED, OPEN, WriteAborted
from .core import BINARY, CONTINUATION, OPCODES, TEXT, BytesLike
from .messages import Messages

if TYPE_CHECKING:
    from ..typing import DataLike
    from .connection import Connection

__all__ = ["Sending", "broadcast", "frame_type"]

# What send() and broadcast() write as one frame.
DataTypes = (str, *BytesLike)


def frame_type(message: DataLike, text: bool | None) -> WSMsgType:
    """The type of the frame carrying ``message``: TEXT for str and BINARY for bytes-like,
    unless ``text`` is False or True."""
    if isinstance(message, str):
        return BINARY if text is False else TEXT
    return TEXT if text is True else BINARY


class Sending(Messages):
    """Sending messages, waiting while the write buffer is above ``write_limit``."""

    __slots__ = (
        "_drain_waiters",
        "_expect_continuation",
        "_writing_paused",
        "write_high",
        "write_low",
    )

    def __init__(self, *, write_limit: int | tuple[int, int | None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(write_limit, int):
            self.write_high, self.write_low = write_limit, None
        else:
            self.write_high, self.write_low = write_limit
        self._expect_continuation = False
        self._writing_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []

    # Write flow control, from picows

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_writers()

    def _wake_writers(self) -> None:
        """Wake the senders waiting for the write buffer to drain."""
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _drain(self) -> None:
        waiter = self.loop.create_future()
        self._drain_waiters.append(waiter)
        try:
            await waiter
        finally:
            self._drain_waiters.remove(waiter)
        if self._state is CLOSED:
            raise self.close_exc

    # Frames out

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
            and isinstance(message, DataTypes)
        ):
            # Fast path: picows frames str (as UTF-8) and bytes-like objects itself.
            self.transport.send(frame_type(message, text), message)
            if self._writing_paused:
                await self._drain()
            return
        try:
            await self._send_slowly(message, text)
        except WriteAborted:
            await self._wait_closed_and_raise()

    async def _send_slowly(
        self,
        message: DataLike | Iterable[DataLike] | AsyncIterable[DataLike],
        text: bool | None,
    ) -> None:
        """:meth:`send` when the fast path doesn't apply."""
        while self._send_in_progress is not None:
            await asyncio.shield(self._send_in_progress)
        if isinstance(message, DataTypes):
            if self._state is not OPEN:
                await self._wait_closed_and_raise()
            data = message.encode() if isinstance(message, str) else message
            self._write(frame_type(message, text), data, True)
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
            if not isinstance(chunk, DataTypes):
                raise TypeError(f"{kind} must contain bytes or str")
            encode = isinstance(chunk, str)
            msg_type = frame_type(chunk, text)
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
                if isinstance(chunk, str) != encode or not isinstance(chunk, DataTypes):
                    raise TypeError(f"{kind} must contain uniform types")
            if self._state is not OPEN:
                await self._wait_closed_and_raise()
            self._write(CONTINUATION, b"", True)
            if self._writing_paused:
                await self._drain()
        except WriteAborted:
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
    if not isinstance(message, DataTypes):
        raise TypeError("data must be str or bytes")
    msg_type = frame_type(message, text)
    payload = message.encode() if isinstance(message, str) else message
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
