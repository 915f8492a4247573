"""WebSocket servers: :func:`serve`, :class:`Server`, :class:`ServerConnection`, authentication."""

from __future__ import annotations

import asyncio
import hmac
import http
import inspect
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Generator, Iterable, Sequence
from types import TracebackType
from typing import Any, NoReturn

from multidict import CIMultiDict
from picows import (
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)

from ..datastructures import Headers
from ..exceptions import InvalidHandshake, InvalidHeader, UnsupportedFeature
from ..frames import CloseCode
from ..handshake import (
    check_line_lengths,
    check_request,
    default_select_subprotocol,
    reject,
    rejection_for,
    server_error,
    switching_protocols,
)
from ..headers import build_www_authenticate_basic, parse_authorization_basic
from ..http11 import SERVER, Request, Response
from ..protocol import State
from ..typing import LoggerLike, Origin, StatusLike, Subprotocol
from .connection import (
    READ_BUFFER_SIZE,
    USE_AIOFASTNET,
    Connection,
    broadcast,
    core_logger,
    limits,
    reject_custom_classes,
)

__all__ = [
    "Server",
    "ServerConnection",
    "basic_auth",
    "broadcast",
    "serve",
    "unix_serve",
]

ProcessRequest = Callable[["ServerConnection", Request], "Response | None"]
ProcessResponse = Callable[["ServerConnection", Request, Response], "Response | None"]


class ServerConnection(Connection):
    """A server-side connection, as :class:`websockets.asyncio.server.ServerConnection`."""

    __slots__ = ("_handler_task", "server", "username")

    def __init__(self, server: Server, **kwargs: Any) -> None:
        super().__init__(is_client=False, **kwargs)
        self.server = server
        self.username: str
        self._handler_task: asyncio.Task[None] | None = None

    def respond(self, status: StatusLike, text: str) -> NoReturn:
        """Not supported: return a :class:`~compat.http11.Response` from the hook instead."""
        raise UnsupportedFeature(
            "ServerConnection.respond()",
            "construct and return a compat.Response(status_code, reason_phrase, headers, body) "
            "from a synchronous process_request or process_response hook",
        )

    def on_ws_connected(self, transport: Any) -> None:
        super().on_ws_connected(transport)
        self._handler_task = self.loop.create_task(self.server._handle(self))

    def connection_closed(self) -> None:
        self._log_info("connection closed")


class _WireResponse(WSUpgradeResponse):
    """Serialise a :class:`Response` exactly: reason phrase, header order and body."""

    __slots__ = ("code", "reason", "response")

    def __init__(self, response: Response) -> None:
        self.response = response
        self.version = b"HTTP/1.1"
        # picows only compares the status with 101; keep the exact code for serialisation.
        known = response.status_code in _STATUSES
        self.status = http.HTTPStatus(response.status_code if known else 200)
        self.reason = response.reason_phrase
        self.code = response.status_code
        # Serialised from self.response; picows only adds headers of its own here, ignored.
        self.headers = CIMultiDict()
        self.body = bytes(response.body)

    def to_bytes(self) -> bytearray:
        # picows adds its own headers to self.headers (Connection: close on a rejection);
        # websockets sends the response's headers as they are.
        data = bytearray(f"HTTP/1.1 {self.code} {self.reason}\r\n".encode())
        data += self.response.headers.serialize()
        if self.body:
            data += self.body
        return data


_STATUSES = {status.value for status in http.HTTPStatus}


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
        self._handlers: dict[ServerConnection, asyncio.Task[None]] = {}
        self._close_task: asyncio.Task[None] | None = None
        self._closed_waiter: asyncio.Future[None] = self.loop.create_future()

    def wrap(self, server: asyncio.Server) -> None:
        """Attach the listening :class:`asyncio.Server`."""
        self.server = server
        for sock in server.sockets:
            name = sock.getsockname()
            self.logger.info("server listening on %s", _format_address(name))

    async def _handle(self, connection: ServerConnection) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers[connection] = task
        try:
            async with connection:
                await self.handler(connection)
        except Exception:
            connection.logger.error("connection handler failed", exc_info=True)
        finally:
            del self._handlers[connection]

    @property
    def connections(self) -> set[ServerConnection]:
        """Set of active connections."""
        return {conn for conn in self._handlers if conn.state is State.OPEN}

    def close(
        self,
        close_connections: bool = True,
        code: int = CloseCode.GOING_AWAY,
        reason: str = "",
    ) -> None:
        """Stop listening and, unless told otherwise, close connections with ``code``."""
        if self._close_task is None:
            self._close_task = self.loop.create_task(self._close(close_connections, code, reason))

    async def _close(self, close_connections: bool, code: int, reason: str) -> None:
        self.logger.info("server closing")
        self.server.close()
        await asyncio.sleep(0)
        if close_connections:
            closing = [
                self.loop.create_task(connection.close(code, reason))
                for connection in list(self._handlers)
            ]
            if closing:
                await asyncio.wait(closing)
        await self.server.wait_closed()
        if self._handlers:
            await asyncio.wait(list(self._handlers.values()))
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
        """Accept connections until cancelled; closes the server on exit."""
        await self.server.serve_forever()

    @property
    def sockets(self) -> tuple[Any, ...]:
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


def _format_address(address: Any) -> str:
    if isinstance(address, tuple):
        host = f"[{address[0]}]" if ":" in str(address[0]) else address[0]
        return f"{host}:{address[1]}"
    return str(address)


def _reject_coroutine(hook: object, name: str) -> None:
    if inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(
        getattr(hook, "__call__", None)  # noqa: B004 - callable objects with async __call__
    ):
        raise UnsupportedFeature(
            f"an asynchronous {name} hook",
            f"make {name} a regular function returning a Response or None",
        )


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
        extensions: Sequence[Any] | None = None,
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
        reject_custom_classes(
            extensions,
            create_connection,
            "keep per-connection state in your handler, keyed by the ServerConnection",
        )
        _reject_coroutine(process_request, "process_request")
        _reject_coroutine(process_response, "process_response")
        if compression is not None and compression != "deflate":
            raise ValueError(f"unsupported compression: {compression}")
        self.handler = handler
        self.host, self.port = host, port
        self.origins = origins
        self.subprotocols = subprotocols
        self.select_subprotocol = select_subprotocol
        self.compression = compression
        self.process_request = process_request
        self.process_response = process_response
        self.server_header = server_header
        self.open_timeout = open_timeout
        self.max_size = max_size
        self.logger = logger
        self.connection_kwargs: dict[str, Any] = {
            "ping_interval": ping_interval,
            "ping_timeout": ping_timeout,
            "close_timeout": close_timeout,
            "max_size": max_size,
            "max_queue": max_queue,
            "write_limit": write_limit,
        }
        self.create_server_kwargs = kwargs

    def _call_hook(self, hook: Callable[..., Any], *args: Any) -> Response | None:
        response = hook(*args)
        if inspect.isawaitable(response):
            if inspect.iscoroutine(response):
                response.close()
            raise UnsupportedFeature(
                "an asynchronous handshake hook",
                "make the hook a regular function returning a Response or None",
            )
        return response  # type: ignore[no-any-return]

    def _upgrade(self, server: Server, upgrade: WSUpgradeRequest) -> WSUpgradeResponseWithListener:
        """Decide the response to an upgrade request, running the handshake hooks."""
        too_long = check_line_lengths(upgrade.path, upgrade.headers.items())
        if too_long is not None:
            return WSUpgradeResponseWithListener(_WireResponse(too_long), None)
        request = Request(upgrade.path.decode("iso-8859-1"), Headers(list(upgrade.headers.items())))
        connection = ServerConnection(server, logger=server.logger, **self.connection_kwargs)
        connection.request = request
        response: Response | None = None
        if self.process_request is not None:
            try:
                response = self._call_hook(self.process_request, connection, request)
            except Exception:
                connection.logger.error("process_request failed", exc_info=True)
                response = server_error()
        accepted = response is None
        if response is None:
            response = self._accept(connection, request)
            if response.status_code == 101:
                # picows checks the upgrade headers again, with a stricter reading of
                # Connection (a single "upgrade" token); they are valid by now.
                upgrade.headers["Connection"] = "Upgrade"
                upgrade.headers["Upgrade"] = "websocket"
        if self.server_header is not None:
            response.headers["Server"] = self.server_header
        if self.process_response is not None:
            try:
                replacement = self._call_hook(self.process_response, connection, request, response)
            except Exception:
                connection.logger.error("process_response failed", exc_info=True)
                replacement = server_error()
            if replacement is not None:
                response = replacement
        connection.response = response
        wire = _WireResponse(response)
        if response.status_code == 101:
            connection._log_info("connection open")
            return WSUpgradeResponseWithListener(wire, connection)
        connection._log_info(
            "connection rejected (%d %s)" if accepted else "HTTP response sent (%d %s)",
            response.status_code,
            response.reason_phrase,
        )
        return WSUpgradeResponseWithListener(wire, None)

    def _accept(self, connection: ServerConnection, request: Request) -> Response:
        """Validate the upgrade request and negotiate; the response says how it went."""
        try:
            key, extensions, subprotocol, codec = check_request(
                request,
                origins=self.origins,
                select_subprotocol=self._selector(connection),
                compression=self.compression,
            )
        except InvalidHandshake as exc:
            return rejection_for(exc)
        except Exception:
            connection.logger.error("opening handshake failed", exc_info=True)
            return server_error()
        connection.deflate = codec
        connection._subprotocol = subprotocol
        return switching_protocols(key, extensions, subprotocol)

    def _selector(
        self, connection: ServerConnection
    ) -> Callable[[Sequence[Subprotocol]], Subprotocol | None]:
        select = self.select_subprotocol
        if select is None:
            return default_select_subprotocol(self.subprotocols)
        return lambda offered: select(connection, offered)

    async def _create(self) -> Server:
        server = Server(self.handler, logger=self.logger)
        max_message, max_fragment = limits(self.max_size)
        frame_limits = [size for size in (max_message, max_fragment) if size is not None]
        asyncio_server = await ws_create_server(
            lambda upgrade: self._upgrade(server, upgrade),
            self.host,
            self.port,
            websocket_handshake_timeout=self.open_timeout,
            enable_auto_pong=False,
            logger_name=core_logger,
            read_buffer_init_size=READ_BUFFER_SIZE,
            use_aiofastnet=USE_AIOFASTNET,
            max_frame_size=min(frame_limits) if frame_limits else sys.maxsize,
            **self.create_server_kwargs,
        )
        server.wrap(asyncio_server)
        return server

    def __await__(self) -> Generator[Any, None, Server]:
        return self._create().__await__()

    async def __aenter__(self) -> Server:
        self.server = await self
        return self.server

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.server.__aexit__(exc_type, exc_value, traceback)


def unix_serve(
    handler: Callable[[ServerConnection], Awaitable[None]],
    path: str | None = None,
    **kwargs: Any,
) -> NoReturn:
    """Not supported: compat serves over TCP only."""
    raise UnsupportedFeature(
        "unix_serve()", "serve over TCP with serve(), e.g. on 127.0.0.1 behind your proxy"
    )


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
    check_credentials: Callable[[str, str], bool] | None = None,
) -> Callable[[ServerConnection, Request], Response | None]:
    """A ``process_request`` hook enforcing HTTP Basic Authentication (RFC 7617).

    Pass static ``credentials`` (a pair or pairs of username and password, compared in constant
    time) or a synchronous ``check_credentials(username, password) -> bool``. On success the
    username is stored in ``connection.username``.
    """
    if (credentials is None) == (check_credentials is None):
        raise ValueError("provide either credentials or check_credentials")
    _reject_coroutine(check_credentials, "check_credentials")
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
                # Compare anyway so that unknown users take as long as wrong passwords.
                hmac.compare_digest(password.encode(), password.encode())
                return False
            return hmac.compare_digest(expected.encode(), password.encode())

        check_credentials = check_static

    checker = check_credentials
    assert checker is not None

    def unauthorized(text: str) -> Response:
        response = reject(http.HTTPStatus.UNAUTHORIZED, text)
        response.headers["WWW-Authenticate"] = build_www_authenticate_basic(realm)
        return response

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        try:
            authorization = request.headers["Authorization"]
        except KeyError:
            return unauthorized("Missing credentials\n")
        try:
            username, password = parse_authorization_basic(authorization)
        except InvalidHeader:
            return unauthorized("Unsupported credentials\n")
        valid = checker(username, password)
        if inspect.isawaitable(valid):
            if inspect.iscoroutine(valid):
                valid.close()
            raise UnsupportedFeature(
                "an asynchronous check_credentials callback",
                "make check_credentials a regular function returning a bool",
            )
        if not valid:
            return unauthorized("Invalid credentials\n")
        connection.username = username
        return None

    return process_request
