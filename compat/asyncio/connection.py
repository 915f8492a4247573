"""The connection shared by clients and servers: picows callbacks turned into awaitables.

:class:`Connection` is the :class:`picows.WSListener` of one WebSocket connection. It stacks the
parts of a connection, each in its own module, as layers of one class, so that picows' calls
and the application's reach every method directly:

- :mod:`~compat.asyncio.closing`: the state, the closing handshake and failing;
- :mod:`~compat.asyncio.keepalive`: pings, pongs and keepalive;
- :mod:`~compat.asyncio.messages`: frames in, messages out, with ``max_queue`` backpressure;
- :mod:`~compat.asyncio.sending`: messages out, ``write_limit`` flow control and broadcast.

This module adds what ties them together: the opening of the connection, the end of every wait
when it closes, and the logs of the opening handshake. The closing handshake, keepalive and the
exceptions raised to the application follow ``websockets.asyncio``.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

from picows import WSTransport

from ..frames import CloseCode
from .closing import OPEN
from .core import core_logger
from .messages import MAX_FRAGMENTS as MAX_FRAGMENTS
from .sending import Sending, broadcast

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..datastructures import Headers
    from ..extensions.base import Extension
    from ..http11 import Request, Response
    from ..typing import LoggerLike

__all__ = ["Connection", "broadcast", "core_logger"]

# Headers whose values carry credentials. The opening handshake is logged at DEBUG as in
# websockets, except that these values are replaced, so that no log holds a secret.
CREDENTIALS = frozenset({"authorization", "proxy-authorization"})
REDACTED = "[redacted]"


class Connection(Sending):
    """A WebSocket connection, as :class:`websockets.asyncio.connection.Connection`.

    Instances are created by :func:`~compat.asyncio.client.connect` and
    :func:`~compat.asyncio.server.serve`; applications never create them directly.
    """

    # Slots keep an idle connection small; ``__dict__`` still lets applications attach their own
    # attributes, as they do to websockets' connections.
    __slots__ = ("__dict__", "_subprotocol", "request", "response")

    request: Request | None
    response: Response | None

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
        super().__init__(
            is_client=is_client,
            logger=logger,
            close_timeout=close_timeout,
            extensions=extensions,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            max_size=max_size,
            max_queue=max_queue,
            write_limit=write_limit,
        )
        self._subprotocol = subprotocol
        self.request = None
        self.response = None

    # picows callbacks; on_ws_frame is Messages', on_ws_disconnected Closing's.

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self._set_state(OPEN)
        self._raw = transport.underlying_transport
        self._raw.set_write_buffer_limits(self.write_high, self.write_low)
        self._schedule_keepalive()

    def _release_waiters(self) -> None:
        self._stop_keepalive()
        self._wake_receiver()
        self._abandon_pings()
        self._wake_writers()

    # The opening handshake, logged at DEBUG by clients and servers.

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

    # Properties

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
