"""Client workloads, written once over a channel that is either raw picows or websockets-style."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from .servers import MAX_SIZE
from .targets import RAW, load_style
from .tls import client_context

__all__ = ["Channel", "Window", "close_all", "open_channel", "open_many", "rate", "window_bits"]

#: Seconds a closing handshake may take before the connection is dropped.
CLOSE_TIMEOUT = 5.0

#: Handshakes in flight at once when opening many connections, below the listen backlog.
HANDSHAKES_IN_FLIGHT = 50

#: Upper bound on iterations of a timed loop, whatever its duration.
MAX_ITERATIONS = 10_000_000

#: Seconds one operation of a timed loop may take: far above the slowest (a 16 MiB echo), far
#: below keepalive pings (20 s by default), which would otherwise hide a stalled connection.
STALL_TIMEOUT = 5.0


class Channel(Protocol):
    """An open connection to an echo server, carrying one fixed message."""

    #: The ``Sec-WebSocket-Extensions`` header of the handshake response, if any.
    extension: str | None

    async def pipeline(self, count: int) -> None:
        """Send ``count`` messages without waiting, then receive their ``count`` echoes."""

    async def slow_pipeline(self, count: int, pause: float) -> None:
        """Like :meth:`pipeline`, sleeping ``pause`` seconds before each receive."""

    async def round_trip(self) -> None:
        """Send one message and wait for its echo."""

    async def close(self) -> None:
        """Close the connection."""


class RawChannel(WSListener):
    """A picows core client: the fastest a Python client on picows can go."""

    extension: str | None = None

    def __init__(self, message: bytes | str) -> None:
        super().__init__()
        if isinstance(message, str):
            self.msg_type, self.message = WSMsgType.TEXT, message.encode()
        else:
            self.msg_type, self.message = WSMsgType.BINARY, message
        self.transport: WSTransport
        self.expected = self.received = 0
        self.waiter: asyncio.Future[None] | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()
        elif frame.fin and frame.msg_type != WSMsgType.PONG:
            self.received += 1
            if self.received == self.expected and self.waiter is not None:
                self.waiter.set_result(None)

    def pause_writing(self) -> None:
        """Keep sending: a batch is bounded, the transport buffers it whole."""

    def resume_writing(self) -> None:
        """Nothing was paused."""

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("disconnected before all echoes arrived"))

    async def pipeline(self, count: int) -> None:
        self.received, self.expected = 0, count
        self.waiter = asyncio.get_running_loop().create_future()
        for _ in range(count):
            self.transport.send(self.msg_type, self.message)
        try:
            await self.waiter
        finally:
            self.waiter = None

    async def slow_pipeline(self, count: int, pause: float) -> None:
        raise NotImplementedError("frames reach a picows listener through callbacks, not recv()")

    async def round_trip(self) -> None:
        await self.pipeline(1)

    async def close(self) -> None:
        if not self.transport.is_disconnected:
            self.transport.send_close(WSCloseCode.OK)
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.transport.wait_disconnected()
        except TimeoutError:
            self.transport.disconnect(graceful=False)


class StyleChannel:
    """A connection opened with a websockets-style ``connect``, used through that API only."""

    def __init__(self, websocket: Any, message: bytes | str) -> None:
        self.websocket = websocket
        self.message = message
        self.extension: str | None = websocket.response.headers.get("Sec-WebSocket-Extensions")

    async def _send(self, count: int) -> None:
        for _ in range(count):
            await self.websocket.send(self.message)

    async def pipeline(self, count: int) -> None:
        # Sending from a task while receiving keeps both directions flowing, as a server
        # that stops reading when its echoes are not consumed would otherwise deadlock.
        sender = asyncio.create_task(self._send(count))
        try:
            for _ in range(count):
                await self.websocket.recv()
        finally:
            if not sender.done():
                sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        sender.result()

    async def slow_pipeline(self, count: int, pause: float) -> None:
        # A consumer doing work between messages: flow control must hold back the rest.
        sender = asyncio.create_task(self._send(count))
        try:
            for _ in range(count):
                await asyncio.sleep(pause)
                await self.websocket.recv()
        finally:
            if not sender.done():
                sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        sender.result()

    async def round_trip(self) -> None:
        await self.websocket.send(self.message)
        await self.websocket.recv()

    async def close(self) -> None:
        await self.websocket.close()


def window_bits(extension: str | None) -> tuple[int, int] | None:
    """Server and client window bits of a permessage-deflate answer; ``None`` if there is none."""
    name, *params = (part.strip() for part in (extension or "").split(";"))
    if name != "permessage-deflate":
        return None
    values = dict(param.replace(" ", "").partition("=")[::2] for param in params)
    return (
        int(values.get("server_max_window_bits") or 15),
        int(values.get("client_max_window_bits") or 15),
    )


async def open_channel(
    target: str, url: str, message: bytes | str, deflate: int | None = None
) -> Channel:
    """Connect to ``url`` with the client of ``target``.

    With ``deflate``, offer permessage-deflate and check that both directions got windows of
    that many bits, so that compression is compared like for like.
    """
    tls = url.startswith("wss:")
    if target == RAW:
        _, listener = await ws_connect(
            lambda: RawChannel(message),
            url,
            max_frame_size=MAX_SIZE,
            ssl_context=client_context() if tls else None,
        )
        assert isinstance(listener, RawChannel)
        return listener
    websocket = await load_style(target).client.connect(
        url,
        compression=None if deflate is None else "deflate",
        max_size=MAX_SIZE,
        open_timeout=CLOSE_TIMEOUT,
        **({"ssl": client_context()} if tls else {}),
    )
    channel = StyleChannel(websocket, message)
    if deflate is not None and window_bits(channel.extension) != (deflate, deflate):
        await channel.close()
        raise ValueError(
            f"negotiated {channel.extension!r}, not {deflate}-bit windows both ways: "
            f"the benchmark can't configure {target} for them"
        )
    return channel


async def close_all(channels: list[Channel]) -> None:
    """Close every channel concurrently."""
    await asyncio.gather(*(channel.close() for channel in channels), return_exceptions=True)


async def open_many(count: int, target: str, url: str, message: bytes | str) -> list[Channel]:
    """Open ``count`` connections, a bounded number of handshakes at a time."""
    in_flight = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)

    async def open_one() -> Channel:
        async with in_flight:
            return await open_channel(target, url, message)

    results = await asyncio.gather(*(open_one() for _ in range(count)), return_exceptions=True)
    channels = [result for result in results if not isinstance(result, BaseException)]
    errors = [result for result in results if isinstance(result, BaseException)]
    if errors:
        await close_all(channels)
        raise errors[0]
    return channels


class Window(Protocol):
    """Counters read around the timed part of a measurement."""

    def open(self) -> None:
        """Read the counters at the start."""

    def close(self, units: int) -> None:
        """Read them again at the end, after ``units`` messages."""


async def rate(
    operation: Callable[[], Awaitable[None]], units: int, duration: float, window: Window
) -> float:
    """Repeat ``operation``, worth ``units`` each, for ``duration`` seconds: return units/s.

    One untimed run first warms up the connection and the code paths; ``window`` is opened
    after it and closed at the end. An operation that stalls fails the measurement.
    """
    await _unstalled(operation)
    window.open()
    done = 0
    start = time.perf_counter()
    deadline = start + duration
    for _ in range(MAX_ITERATIONS):
        await _unstalled(operation)
        done += units
        if time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - start
    window.close(done)
    return done / elapsed


async def _unstalled(operation: Callable[[], Awaitable[None]]) -> None:
    try:
        async with asyncio.timeout(STALL_TIMEOUT):
            await operation()
    except TimeoutError:
        raise TimeoutError(f"an operation stalled for over {STALL_TIMEOUT:g} s") from None
