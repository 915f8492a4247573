"""Pings, pongs and keepalive: ``ping_interval``, ``ping_timeout`` and ``latency``.

:class:`Keepalive` sends pings and pongs, matches pongs to the pings they answer, and runs
keepalive on timer callbacks rather than on a task per connection, so that idle connections
stay light. A keepalive ping that no pong answers within ``ping_timeout`` fails the connection.
"""

from __future__ import annotations

import asyncio
import random
import struct
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from picows import WSMsgType

from ..exceptions import ConcurrencyError
from ..frames import CloseCode, Frame
from .closing import OPEN, Closing, WriteAborted, check_control_frame
from .core import OPCODES, PING, PONG, BytesLike

if TYPE_CHECKING:
    from ..typing import DataLike

__all__ = ["Keepalive"]


class Keepalive(Closing):
    """Pings and pongs of a connection, and keepalive."""

    __slots__ = (
        "_keepalive_task",
        "_keepalive_timer",
        "_pings",
        "latency",
        "ping_interval",
        "ping_timeout",
    )

    def __init__(
        self, *, ping_interval: float | None, ping_timeout: float | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.latency: float = 0.0
        # Pong waiters and the time their pings were sent, by ping payload.
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._keepalive_timer: asyncio.TimerHandle | None = None
        # Runs a keepalive ping through a ping() that a subclass overrides.
        self._keepalive_task: asyncio.Task[None] | None = None

    def _send_control(self, msg_type: WSMsgType, data: bytes) -> None:
        """Send a ping or a pong, encoded by the extensions if any."""
        if self.debug:
            self.logger.debug("> %s", Frame(OPCODES[msg_type], data))
        if self._extensions is None:
            self.transport.send(msg_type, data)
        else:
            self._send_frame(self._encode(Frame(OPCODES[msg_type], data)))

    async def ping(self, data: DataLike | None = None) -> Awaitable[float]:
        """Send a ping; return an awaitable resolving to the latency once the pong arrives."""
        if data is not None:
            data = _control_payload(data)
        if self._state is not OPEN:
            await self._wait_closed_and_raise()
        if data in self._pings:
            raise ConcurrencyError("already waiting for a pong with the same data")
        data, pong_waiter = self._expect_pong(data)
        check_control_frame(data)
        try:
            self._send_control(PING, data)
        except WriteAborted:
            await self._wait_closed_and_raise()
        return pong_waiter

    async def pong(self, data: DataLike = b"") -> None:
        """Send a pong."""
        data = _control_payload(data)
        if self._state is not OPEN:
            await self._wait_closed_and_raise()
        check_control_frame(data)
        try:
            self._send_control(PONG, data)
        except WriteAborted:
            await self._wait_closed_and_raise()

    def _expect_pong(self, data: bytes | None) -> tuple[bytes, asyncio.Future[float]]:
        """Register a ping carrying ``data``, or random data that no other ping carries.

        Return its data and the future its pong resolves to the latency.
        """
        while data is None or data in self._pings:
            data = struct.pack("!I", random.getrandbits(32))
        pong_waiter: asyncio.Future[float] = self.loop.create_future()
        self._pings[data] = (pong_waiter, self.loop.time())
        return data, pong_waiter

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

    def _abandon_pings(self) -> None:
        """Fail the pings still waiting for a pong: the connection is closed."""
        if self._pings:
            exc = self.close_exc
            for pong_waiter, _ in self._pings.values():
                if not pong_waiter.done():
                    pong_waiter.set_exception(exc)
                    pong_waiter.exception()  # mark as retrieved
            self._pings.clear()

    # Keepalive, on timer callbacks rather than a task per connection.

    def _schedule_keepalive(self, delay: float | None = None) -> None:
        if self.ping_interval is not None and self._state is OPEN:
            self._keepalive_timer = self.loop.call_later(
                self.ping_interval if delay is None else max(delay, 0.0), self._keepalive_ping
            )

    def _stop_keepalive(self) -> None:
        if self._keepalive_timer is not None:
            self._keepalive_timer.cancel()
        if self._keepalive_task is not None:
            self._keepalive_task.cancel()

    def _keepalive_ping(self) -> None:
        if self._state is not OPEN:
            return
        if type(self).ping is not Keepalive.ping:
            # A subclass overrides ping(): keepalive pings go through it, as in websockets.
            self._keepalive_task = self.loop.create_task(self._keepalive_overridden_ping())
            return
        data, pong_waiter = self._expect_pong(None)
        try:
            self._send_control(PING, data)
        except WriteAborted:
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


def _control_payload(data: DataLike) -> bytes:
    """The payload of a ping or pong given as str or bytes-like."""
    if isinstance(data, BytesLike):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()
    raise TypeError("data must be str or bytes-like")
