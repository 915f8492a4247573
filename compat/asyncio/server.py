"""WebSocket servers: :func:`serve`, :class:`Server`, :class:`ServerConnection`, authentication.

compat performs the opening handshake itself — reading the request, running the hooks, which may
be coroutines, and answering — then hands the connection to the picows core for framing
(:mod:`.handoff`).
"""

from __future__ import annotations

import asyncio
import hmac
import http
import logging
import re
import socket
import sys
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from types import TracebackType
from typing import Any, cast

from multidict import CIMultiDict
from picows import WSTransport, WSUpgradeResponse

from ..exceptions import (
    HeaderLineTooLong,
    InvalidHandshake,
    InvalidHeader,
    InvalidMessage,
    RequestLineTooLong,
    TooManyHeaders,
)
from ..extensions.base import ServerExtensionFactory
from ..extensions.permessage_deflate import enable_server_permessage_deflate
from ..frames import CloseCode
from ..handshake import (
    check_request,
    debug_label,
    default_select_subprotocol,
    reject,
    rejection_for,
    server_error,
    switching_protocols,
)
from ..headers import build_www_authenticate_basic, parse_authorization_basic
from ..http11 import SERVER, Request, RequestReader, Response
from ..protocol import State
from ..typing import LoggerLike, Origin, PathLike, StatusLike, Subprotocol
from .connection import Connection, broadcast
from .core import READ_BUFFER_SIZE, checked_options, core_logger, limits
from .handoff import hand_off

__all__ = [
    "Server",
    "ServerConnection",
    "basic_auth",
    "broadcast",
    "serve",
    "unix_serve",
]

ProcessRequest = Callable[
    ["ServerConnection", Request], Awaitable[Response | None] | Response | None
]
ProcessResponse = Callable[
    ["ServerConnection", Request, Response], Awaitable[Response | None] | Response | None
]

class ServerConnection(Connection):
    """A server-side connection, as :class:`websockets.asyncio.server.ServerConnection`.

    It exists from the moment the TCP connection is accepted: during the opening handshake its
    state is CONNECTING and ``request``, the addresses and, in ``process_response``,
    ``response`` are available to the hooks.
    """

    __slots__ = ("_accept_called", "server", "username")

    def __init__(self, server: Server, **kwargs: Any) -> None:
        super().__init__(is_client=False, **kwargs)
        # Whether the request went through the handshake checks, which words the log line of
        # a rejection.
        self._accept_called = False
        self.server = server
        self.username: str

    def respond(self, status: StatusLike, text: str) -> Response:
        """A plain-text HTTP response for ``process_request`` or ``process_response`` to return.

        ``text`` is encoded to UTF-8; the response may be changed before it is returned.
        """
        return reject(status, text)

    def _handshake_ended(self) -> None:
        """The connection ended, by the client's EOF or TCP closing, before being handed to
        picows; nothing if it had already."""
        if self._state is State.CLOSED:
            return
        self._set_state(State.CLOSED)
        # _closed is set only with the CLOSED state, which returned above.
        if not self._closed.done():  # pragma: no branch
            self._closed.set_result(None)
        self.connection_closed()

    def on_ws_connected(self, transport: WSTransport) -> None:
        super().on_ws_connected(transport)
        self._log_info("connection open")

    def connection_closed(self) -> None:
        self._log_info("connection closed")


class _WireResponse(WSUpgradeResponse):
    """What picows writes when it takes a connection over: the accepted 101, exactly."""

    __slots__ = ("serialized",)

    def __init__(self, response: Response) -> None:
        self.version = b"HTTP/1.1"
        self.status = http.HTTPStatus.SWITCHING_PROTOCOLS
        # picows adds headers of its own here; the response is written as compat serialised it.
        self.headers = CIMultiDict()
        self.body = b""
        self.serialized = bytearray(response.serialize())

    def to_bytes(self) -> bytearray:
        return self.serialized


# Bytes a client may send after its request before the server has answered it.
EARLY_DATA_LIMIT = 2**16


class _Opening(asyncio.Protocol):
    """The asyncio protocol of a connection until its opening handshake is over.

    It reads the request and reports it, a malformed request, or the end of the connection
    through :attr:`outcome`. Bytes that follow the request wait for picows; reading pauses if
    more than :data:`EARLY_DATA_LIMIT` of them arrive before the handshake is over.
    """

    def __init__(self, server: Server, settings: serve) -> None:
        self.server = server
        self.settings = settings
        self.reader = RequestReader()
        self.outcome: asyncio.Future[Request | BaseException | None]
        self.lost: asyncio.Future[None]
        self.transport: asyncio.Transport
        self.connection = settings.connection_class(server, **settings.connection_kwargs)
        self.handed_off = False
        self.read = False  # the request, or what made it unreadable, is known
        self.paused = False  # reading paused: too many bytes arrived after the request
        self.eof = False  # the client half-closed
        self.closing = False  # the connection won't open; waiting for the client to close
        self.request: Request | None = None  # the request, once read

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        loop = self.server.loop
        # A stream transport; uvloop's don't derive from asyncio.Transport.
        self.transport = cast(asyncio.Transport, transport)
        self.outcome = loop.create_future()
        self.lost = loop.create_future()
        self.connection._raw = self.transport
        # Registered now rather than inside the task, so that close() never misses it.
        task = loop.create_task(self.server._run(self))
        self.server.handler_tasks.add(task)

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        if self.read:
            self.reader.buffer += data
            if len(self.reader.buffer) > EARLY_DATA_LIMIT and not self.paused:
                self.paused = True
                self.transport.pause_reading()
            return
        try:
            request = self.reader.feed(data)
        except Exception as exc:
            self._report(exc)
        else:
            if request is not None:
                self._report(request)

    def eof_received(self) -> bool:
        self.eof = True
        if not self.read:
            try:
                self.reader.feed_eof()
            except Exception as exc:
                self._report(exc)
        # Stay half-open while the request may still be answered; close once it was.
        return not self.closing

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.read:
            try:
                self.reader.feed_eof()
            except Exception as error:
                self.connection.logger.debug("! no valid HTTP request", exc_info=error)
                if self.connection.debug:
                    self.connection.logger.debug("> EOF")
        elif self.request is not None and not self.closing and self.connection.debug:
            # The request was read and not answered: websockets reads frames after it and
            # fails on the end of the stream.
            self.connection.logger.debug("< EOF")
            self.connection.logger.debug("> EOF")
        if not self.outcome.done():
            self.outcome.set_result(None)
        self.lost.set_result(None)
        # Once handed off, the transport reports its end to picows' protocol, not this one.
        if not self.handed_off:  # pragma: no branch
            self.connection._handshake_ended()

    def _report(self, outcome: Request | BaseException) -> None:
        self.read = True
        if isinstance(outcome, Request):
            self.request = outcome
            if self.connection.debug:
                self.connection._log_request(outcome)
        if not self.outcome.done():  # else open_timeout expired
            self.outcome.set_result(outcome)

    async def handshake(self) -> bool:
        """Answer the request; return whether the WebSocket connection is open."""
        outcome = await self.outcome
        # websockets waits for the request with asyncio.wait(), which resumes one event loop
        # iteration later: an end of stream right behind the request is read before answering.
        await asyncio.sleep(0)
        connection = self.connection
        if outcome is None:
            return False
        if isinstance(outcome, BaseException):
            response = self._malformed(outcome)
        else:
            connection.request = outcome
            response = await self.settings.respond(connection, outcome)
            if response.status_code == 101 and not self.server.is_serving():
                response = reject(http.HTTPStatus.SERVICE_UNAVAILABLE, "Server is shutting down.\n")
            if self.transport.is_closing():
                return False
            if self.eof:
                # The client ended its side with its request or while the hooks ran: as in
                # websockets, the connection is closed then, and nothing is sent back.
                if connection.debug:
                    connection.logger.debug("< EOF")
                await self._close()
                return False
        if response is not None:
            connection.response = response
            if connection.debug:
                connection._log_response(response)
            if response.status_code == 101:
                self._hand_off(response)
                return True
            self.transport.write(response.serialize())
            connection._log_info(
                "connection rejected (%d %s)" if connection._accept_called
                else "HTTP response sent (%d %s)",
                response.status_code,
                response.reason_phrase,
            )
        await self._close()
        return False

    def _malformed(self, exc: BaseException) -> Response | None:
        """Log a request that couldn't be read; the response to send, if any."""
        logger = self.connection.logger
        if isinstance(exc, RequestLineTooLong):
            logger.debug("! request line too long", exc_info=exc)
            status = http.HTTPStatus.REQUEST_URI_TOO_LONG
        elif isinstance(exc, (HeaderLineTooLong, TooManyHeaders)):
            logger.debug("! header fields too large", exc_info=exc)
            status = http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
        else:
            invalid = InvalidMessage("did not receive a valid HTTP request")
            invalid.__cause__ = exc
            logger.debug("! no valid HTTP request", exc_info=exc)
            return None
        return reject(status, f"Failed to open a WebSocket connection: {exc}.\n")

    def _hand_off(self, response: Response) -> None:
        connection = self.connection
        self.handed_off = True
        hand_off(
            self.transport,
            connection,
            _WireResponse(response),
            received=self.reader.buffer,
            logger=core_logger,
            max_frame_size=self.settings.max_frame_size,
            read_buffer_size=READ_BUFFER_SIZE,
        )
        self.reader.buffer = bytearray()
        if self.paused:
            self.transport.resume_reading()

    async def _close(self) -> None:
        """End a connection that won't open: half-close, let the client close, then abort."""
        transport = self.transport
        self.closing = True
        # Read again, to notice the client closing; anything it sends is discarded.
        if self.paused and not transport.is_closing():
            transport.resume_reading()
        if self.connection.debug:
            self.connection.logger.debug("> EOF")
        if self.eof:
            # The client sent EOF already: as in websockets, the connection is closed now.
            self.connection._handshake_ended()
        if self.connection.debug and not transport.is_closing():
            self.connection._log_tcp_close()
        if not transport.is_closing():
            if self.eof or not transport.can_write_eof():
                transport.close()
            else:
                try:
                    transport.write_eof()
                # shutdown() fails on a reset the transport hasn't read: reading paused, and no
                # response written, which would have failed first; no test can time that.
                except OSError:  # pragma: no cover
                    transport.abort()
        try:
            async with asyncio.timeout(self.settings.close_timeout):
                await asyncio.shield(self.lost)
        except TimeoutError:
            pass
        transport.abort()


class Server:
    """A WebSocket server, as :class:`websockets.asyncio.server.Server`."""

    def __init__(
        self,
        handler: Callable[[ServerConnection], Awaitable[None]],
        logger: LoggerLike | None = None,
    ) -> None:
        self.handler = handler
        if logger is None:
            logger = logging.getLogger("websockets.server")
        self.logger: LoggerLike = logger
        self.loop = asyncio.get_running_loop()
        self.server: asyncio.Server
        self.all_connections: set[ServerConnection] = set()
        self.handler_tasks: set[asyncio.Task[None]] = set()
        self._close_task: asyncio.Task[None] | None = None
        self._closed_waiter: asyncio.Future[None] = self.loop.create_future()
        self._open_timeout: float | None = None

    def wrap(self, server: asyncio.Server, open_timeout: float | None) -> None:
        """Attach the listening :class:`asyncio.Server`."""
        self.server = server
        self._open_timeout = open_timeout
        if server.is_serving():
            for sock in server.sockets:
                self.logger.info("server listening on %s", _socket_name(sock))

    async def _run(self, opening: _Opening) -> None:
        """One connection: the opening handshake within ``open_timeout``, then the handler."""
        connection = opening.connection
        try:
            try:
                async with asyncio.timeout(self._open_timeout):
                    opened = await opening.handshake()
            except TimeoutError:
                opened = False
            if not opened:
                opening.transport.abort()
                return
            self.all_connections.add(connection)
            try:
                async with connection:
                    await self.handler(connection)
            except Exception:
                connection.logger.error("connection handler failed", exc_info=True)
            finally:
                self.all_connections.discard(connection)
        except Exception:
            opening.transport.abort()
        finally:
            task = asyncio.current_task()
            assert task is not None
            self.handler_tasks.discard(task)

    @property
    def connections(self) -> set[ServerConnection]:
        """Connections that completed the opening handshake and aren't closing."""
        return {conn for conn in self.all_connections if conn.state is State.OPEN}

    def close(
        self,
        close_connections: bool = True,
        code: int = CloseCode.GOING_AWAY,
        reason: str = "",
    ) -> None:
        """Stop listening and, unless told otherwise, close connections with ``code``.

        Connections still in their opening handshake are answered 503 Service Unavailable.
        """
        if self._close_task is None:
            self._close_task = self.loop.create_task(self._close(close_connections, code, reason))

    async def _close(self, close_connections: bool, code: int, reason: str) -> None:
        self.logger.info("server closing")
        self.server.close()
        if close_connections:
            closing = [
                self.loop.create_task(connection.close(code, reason))
                for connection in self.all_connections
                if connection.state is State.OPEN
            ]
            if closing:
                await asyncio.wait(closing)
        await self.server.wait_closed()
        if self.handler_tasks:
            await asyncio.wait(self.handler_tasks)
        self._closed_waiter.set_result(None)
        self.logger.info("server closed")

    async def wait_closed(self) -> None:
        """Wait until the server is closed and every connection handler has returned."""
        await asyncio.shield(self._closed_waiter)

    def get_loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the server runs on."""
        return self.server.get_loop()

    def is_serving(self) -> bool:
        """Whether the server is accepting new connections."""
        return self.server.is_serving()

    async def start_serving(self) -> None:
        """Start accepting connections (when created with ``start_serving=False``)."""
        await self.server.start_serving()

    async def serve_forever(self) -> None:
        """Serve until :meth:`close` is called, or until cancelled, which closes the server."""
        try:
            if not self.is_serving():
                await self.start_serving()
            await self.wait_closed()
        except asyncio.CancelledError:
            try:
                self.close()
                await self.wait_closed()
            finally:
                raise

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        """The listening sockets."""
        return tuple(self.server.sockets)

    def __await__(self) -> Generator[Any, None, Server]:
        """``await`` on a started server returns it, as in websockets."""
        return self._started().__await__()

    async def _started(self) -> Server:
        return self

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
        await self.wait_closed()


def _socket_name(sock: socket.socket) -> str:
    """A listening socket's address as websockets logs it."""
    name = sock.getsockname()
    if sock.family == socket.AF_INET:
        return f"{name[0]}:{name[1]:d}"
    if sock.family == socket.AF_INET6:
        return f"[{name[0]}]:{name[1]:d}"
    return str(name)


async def _call_hook(hook: Callable[..., Any], *args: Any) -> Response | None:
    """Call a handshake hook, awaiting it if it returns an awaitable."""
    result = hook(*args)
    if isinstance(result, Awaitable):
        result = await result
    return result  # type: ignore[no-any-return]


class serve:
    """Serve WebSockets on ``host`` and ``port``, as :func:`websockets.asyncio.server.serve`.

    ``await serve(...)`` returns a :class:`Server`; ``async with serve(...)`` closes it on exit.
    """

    def __init__(
        self,
        handler: Callable[[ServerConnection], Awaitable[None]],
        host: str | None = None,
        port: int | None = None,
        *,
        origins: Sequence[Origin | re.Pattern[str] | None] | None = None,
        extensions: Sequence[ServerExtensionFactory] | None = None,
        subprotocols: Sequence[Subprotocol] | None = None,
        select_subprotocol: (
            Callable[[ServerConnection, Sequence[Subprotocol]], Subprotocol | None] | None
        ) = None,
        compression: str | None = "deflate",
        process_request: ProcessRequest | None = None,
        process_response: ProcessResponse | None = None,
        server_header: str | None = SERVER,
        open_timeout: float | None = 10,
        ping_interval: float | None = 20,
        ping_timeout: float | None = 20,
        close_timeout: float | None = 10,
        max_size: int | tuple[int | None, int | None] | None = 2**20,
        max_queue: int | tuple[int | None, int | None] | None = 16,
        write_limit: int | tuple[int, int | None] = 2**15,
        logger: LoggerLike | None = None,
        create_connection: type[ServerConnection] | None = None,
        **kwargs: Any,
    ) -> None:
        extensions = checked_options(
            subprotocols, compression, extensions, max_queue, enable_server_permessage_deflate
        )
        self.handler = handler
        self.host, self.port = host, port
        self.origins = origins
        self.extensions = extensions
        self.subprotocols = subprotocols
        self.select_subprotocol = select_subprotocol
        self.process_request = process_request
        self.process_response = process_response
        self.server_header = server_header
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self.logger = logger
        # A subclass of ServerConnection, created as ServerConnection is, for every connection.
        self.connection_class = create_connection or ServerConnection
        self.connection_kwargs: dict[str, Any] = {
            "ping_interval": ping_interval,
            "ping_timeout": ping_timeout,
            "close_timeout": close_timeout,
            "max_size": max_size,
            "max_queue": max_queue,
            "write_limit": write_limit,
        }
        max_message, max_fragment = limits(max_size)
        frame_limits = [size for size in (max_message, max_fragment) if size is not None]
        self.max_frame_size = min(frame_limits) if frame_limits else sys.maxsize
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_handshake_timeout", open_timeout)
            kwargs.setdefault("ssl_shutdown_timeout", close_timeout)
        self.create_server_kwargs = kwargs
        self.server: Server | None = None  # once awaited: awaiting again returns it

    async def respond(self, connection: ServerConnection, request: Request) -> Response:
        """The response to ``request``: the hooks' or the handshake's, with the Server header."""
        response: Response | None = None
        if self.process_request is not None:
            try:
                response = await _call_hook(self.process_request, connection, request)
            except Exception:
                connection.logger.error("process_request failed", exc_info=True)
                response = server_error()
        if response is None:
            response = self._accept(connection, request)
        if self.server_header is not None:
            response.headers["Server"] = self.server_header
        connection.response = response
        if self.process_response is not None:
            try:
                replacement = await _call_hook(
                    self.process_response, connection, request, response
                )
            except Exception:
                connection.logger.error("process_response failed", exc_info=True)
                replacement = server_error()
            if replacement is not None:
                response = replacement
        return response

    def _accept(self, connection: ServerConnection, request: Request) -> Response:
        """Validate the upgrade request and negotiate; the response says how it went."""
        connection._accept_called = True
        logger = connection.logger
        try:
            key, extensions_header, subprotocol, extensions = check_request(
                request,
                origins=self.origins,
                select_subprotocol=self._selector(connection),
                extensions=self.extensions,
            )
        except InvalidHandshake as exc:
            logger.debug(debug_label(exc), exc_info=True)
            return rejection_for(exc)
        except Exception:
            logger.error("opening handshake failed", exc_info=True)
            return server_error()
        connection._use_extensions(extensions)
        connection._subprotocol = subprotocol
        return switching_protocols(key, extensions_header, subprotocol)

    def _selector(
        self, connection: ServerConnection
    ) -> Callable[[Sequence[Subprotocol]], Subprotocol | None]:
        select = self.select_subprotocol
        if select is None:
            return default_select_subprotocol(self.subprotocols)
        return lambda offered: select(connection, offered)

    async def _create(self) -> Server:
        if self.server is not None:
            return self.server
        server = Server(self.handler, logger=self.logger)
        self.connection_kwargs["logger"] = server.logger
        loop = asyncio.get_running_loop()
        kwargs = dict(self.create_server_kwargs)
        if kwargs.pop("unix", False):
            asyncio_server = await loop.create_unix_server(
                lambda: _Opening(server, self), **kwargs
            )
        else:
            asyncio_server = await loop.create_server(
                lambda: _Opening(server, self), self.host, self.port, **kwargs
            )
        server.wrap(asyncio_server, self.open_timeout)
        self.server = server
        return server

    def __await__(self) -> Generator[Any, None, Server]:
        return self._create().__await__()

    async def __aenter__(self) -> Server:
        return await self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self.server is not None, "__aexit__ without __aenter__"
        await self.server.__aexit__(exc_type, exc_value, traceback)


def unix_serve(
    handler: Callable[[ServerConnection], Awaitable[None]],
    path: PathLike | None = None,
    **kwargs: Any,
) -> serve:
    """Serve WebSockets on the Unix socket at ``path``, as :func:`serve` does on TCP."""
    return serve(handler, unix=True, path=path, **kwargs)


def _is_credentials(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], str)
    )


def basic_auth(
    realm: str = "",
    credentials: tuple[str, str] | Iterable[tuple[str, str]] | None = None,
    check_credentials: Callable[[str, str], Awaitable[bool] | bool] | None = None,
) -> Callable[[ServerConnection, Request], Awaitable[Response | None]]:
    """A ``process_request`` hook enforcing HTTP Basic Authentication (RFC 7617).

    Pass static ``credentials`` (a pair or pairs of username and password, compared in constant
    time) or ``check_credentials(username, password)``, a function or coroutine returning whether
    they're valid. On success the username is stored in ``connection.username``.
    """
    if (credentials is None) == (check_credentials is None):
        raise ValueError("provide either credentials or check_credentials")
    if credentials is not None:
        credentials_list: list[Any]
        if _is_credentials(credentials):
            credentials_list = [credentials]
        elif isinstance(credentials, Iterable):
            credentials_list = list(credentials)
            if not all(_is_credentials(item) for item in credentials_list):
                raise TypeError(f"invalid credentials argument: {credentials}")
        else:
            raise TypeError(f"invalid credentials argument: {credentials}")
        passwords: dict[str, str] = dict(credentials_list)

        def check_static(username: str, password: str) -> bool:
            expected = passwords.get(username)
            if expected is None:
                return False
            return hmac.compare_digest(
                expected.encode(errors="surrogateescape"),
                password.encode(errors="surrogateescape"),
            )

        check_credentials = check_static

    checker = check_credentials
    assert checker is not None

    def unauthorized(connection: ServerConnection, text: str) -> Response:
        response = connection.respond(http.HTTPStatus.UNAUTHORIZED, text)
        response.headers["WWW-Authenticate"] = build_www_authenticate_basic(realm)
        return response

    async def process_request(connection: ServerConnection, request: Request) -> Response | None:
        try:
            authorization = request.headers["Authorization"]
        except KeyError:
            return unauthorized(connection, "Missing credentials\n")
        try:
            username, password = parse_authorization_basic(authorization)
        except InvalidHeader:
            return unauthorized(connection, "Unsupported credentials\n")
        valid = checker(username, password)
        if isinstance(valid, Awaitable):
            valid = await valid
        if not valid:
            return unauthorized(connection, "Invalid credentials\n")
        connection.username = username
        return None

    return process_request
