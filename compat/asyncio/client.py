"""WebSocket clients: :func:`connect`, :class:`ClientConnection`, reconnection and redirects."""

from __future__ import annotations

import asyncio
import itertools
import logging
import operator
import os
import random
import socket
import sys
import traceback
import urllib.parse
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from types import TracebackType
from typing import Any, Literal

from picows import (
    WSHandshakeError,
    WSInvalidHeaderError,
    WSInvalidMessageError,
    WSInvalidUpgradeError,
    WSUpgradeRequest,
    WSUpgradeResponse,
)

from ..datastructures import Headers, HeadersLike
from ..exceptions import (
    InvalidHeader,
    InvalidHeaderValue,
    InvalidMessage,
    InvalidStatus,
    InvalidUpgrade,
    SecurityError,
    StatusLineTooLong,
    UnsupportedFeature,
)
from ..extensions.base import ClientExtensionFactory
from ..extensions.permessage_deflate import enable_client_permessage_deflate
from ..handshake import check_response, check_upgrade, offer_extensions
from ..headers import build_authorization_basic
from ..http11 import USER_AGENT, Request, Response
from ..protocol import State
from ..typing import LoggerLike, Origin, PathLike, Subprotocol
from ..uri import WebSocketURI, parse_uri
from .connection import Connection
from .core import READ_BUFFER_SIZE, checked_options, core_logger, limits
from .handoff import RequestWatch, open_client
from .proxy import open_socket, select_proxy
from .rejection import read_response
from .tunnel import open_tunnel

__all__ = ["ClientConnection", "connect", "process_exception", "unix_connect"]

MAX_REDIRECTS = int(os.environ.get("WEBSOCKETS_MAX_REDIRECTS", "10"))
BACKOFF_INITIAL_DELAY = float(os.environ.get("WEBSOCKETS_BACKOFF_INITIAL_DELAY", "5"))
BACKOFF_MIN_DELAY = float(os.environ.get("WEBSOCKETS_BACKOFF_MIN_DELAY", "3.1"))
BACKOFF_MAX_DELAY = float(os.environ.get("WEBSOCKETS_BACKOFF_MAX_DELAY", "90.0"))
BACKOFF_FACTOR = float(os.environ.get("WEBSOCKETS_BACKOFF_FACTOR", "1.618"))

# Keyword arguments of loop.create_connection that picows applies when it wraps the socket.
TLS_KWARGS = ("server_hostname", "ssl_handshake_timeout", "ssl_shutdown_timeout")

# picows reads at most this much of a response head before it parses it.
PICOWS_MAX_HEAD = 16 * 1024


class ClientConnection(Connection):
    """A client-side connection, as :class:`websockets.asyncio.client.ClientConnection`."""

    __slots__ = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(is_client=True, **kwargs)

    def _log_failed_handshake(self, *, eof_received: bool, aborted: bool, tls: bool) -> None:
        """Log the end of a failed opening handshake at DEBUG, in websockets' order.

        websockets sends EOF at once and writes it on the TCP connection unless it aborts the
        connection; the state becomes CLOSED with the server's EOF, which may have come first.
        """
        self.logger.debug("> EOF")
        if eof_received or aborted:
            self._set_state(State.CLOSED)
        if not aborted:
            self.logger.debug(
                "x closing TCP connection" if tls else "x half-closing TCP connection"
            )
        if not (eof_received or aborted):
            self._set_state(State.CLOSED)


class _HandshakeLog(RequestWatch):
    """picows' log for one opening handshake, when the connection's logger shows DEBUG.

    picows writes the request itself and shows it as written, key included, only in its own log:
    the connection logs it as websockets logs the request it sends, credentials redacted, and
    this log remembers that the request went out, after which a failure is logged as websockets
    logs it.
    """

    def __init__(self, tls: bool) -> None:
        super().__init__()
        self.tls = tls
        self.connection: ClientConnection | None = None
        self.request_sent = False

    def sent(self, request: bytes) -> None:
        # picows writes the request once connected() has set the connection.
        if self.connection is not None:  # pragma: no branch
            self.request_sent = True
            self.connection._log_request(_sent_request(request))

    def failed(self, *, eof_received: bool = False, aborted: bool = False) -> None:
        """Log the end of the handshake if it failed after the request went out."""
        if self.connection is not None and self.request_sent:
            self.connection._log_failed_handshake(
                eof_received=eof_received, aborted=aborted, tls=self.tls
            )


def _sent_request(data: bytes) -> Request:
    """The request picows wrote, read back from its bytes."""
    request_line, *lines = data.decode(errors="surrogateescape").split("\r\n")
    method, path, protocol = request_line.split(" ", 2)
    fields = (line.partition(": ") for line in lines)
    headers = Headers([(name, value) for name, colon, value in fields if colon])
    return Request(path, headers, method, protocol)


def process_exception(exc: Exception) -> Exception | None:
    """Decide whether ``async for ... in connect(...)`` retries after ``exc``.

    Network errors, timeouts, a connection closed during the handshake, and HTTP 500, 502, 503
    and 504 are retried (``None``); anything else is returned to be raised.
    """
    if isinstance(exc, (OSError, asyncio.TimeoutError)):
        return None
    if isinstance(exc, InvalidMessage) and isinstance(exc.__cause__, EOFError):
        return None
    if isinstance(exc, InvalidStatus) and exc.response.status_code in (500, 502, 503, 504):
        return None
    return exc


def backoff(
    initial_delay: float = BACKOFF_INITIAL_DELAY,
    min_delay: float = BACKOFF_MIN_DELAY,
    max_delay: float = BACKOFF_MAX_DELAY,
    factor: float = BACKOFF_FACTOR,
) -> Generator[float]:
    """Delays between reconnection attempts: random first, then exponential, then capped."""
    growing = itertools.accumulate(itertools.repeat(factor), operator.mul, initial=min_delay)
    yield from itertools.chain(
        (random.random() * initial_delay,),
        itertools.takewhile(lambda delay: delay < max_delay, growing),
        itertools.repeat(max_delay),
    )


def _is_unix(sock: socket.socket | None) -> bool:
    """Whether ``sock`` is a Unix socket, which picows' own client can't set up."""
    return sock is not None and sock.family == socket.AF_UNIX


def _refused_tls_keyword(tls_kwargs: dict[str, Any]) -> str | None:
    """The event loop's error for the first TLS keyword in ``tls_kwargs``, given without TLS."""
    for name in TLS_KWARGS:  # in the order asyncio and uvloop check them
        if tls_kwargs.get(name) is not None:
            return f"{name} is only meaningful with ssl"
    return None


def _host_header(wsuri: WebSocketURI) -> str:
    host = f"[{wsuri.host}]" if ":" in wsuri.host else wsuri.host
    if wsuri.port != (443 if wsuri.secure else 80):
        host = f"{host}:{wsuri.port}"
    return host


def _latin1(value: str) -> str:
    """A header value as websockets decodes it: picows keeps bytes above 0x7F as surrogates."""
    if value.isascii():
        return value
    return value.encode("ascii", "surrogateescape").decode("iso-8859-1")


def _response(response: WSUpgradeResponse) -> Response:
    """Convert picows' view of a 101 response into websockets' :class:`Response`.

    picows validated the header values already. It doesn't keep the reason phrase.
    """
    headers = Headers()
    for name, value in response.headers.items():
        headers.set_insecure(str(name), _latin1(value))
    return Response(int(response.status), response.status.phrase, headers)


def _invalid_message(cause: Exception) -> InvalidMessage:
    invalid = InvalidMessage("did not receive a valid HTTP response")
    invalid.__cause__ = cause
    return invalid


def _check_switching(headers: Headers) -> None:
    """Check the Connection, Upgrade and Sec-WebSocket-Accept headers of a 101 as websockets does.

    picows checked only the first of each, and checks the accept key before Connection; websockets
    reads every Connection and Upgrade header and refuses two accept keys before comparing one.
    """
    check_upgrade(headers)
    if len(headers.get_all("Sec-WebSocket-Accept")) > 1:
        raise InvalidHeader("Sec-WebSocket-Accept", "multiple values")


def _whole_head(exc: WSHandshakeError) -> bytes | None:
    """The head of the response picows refused, if it read all of it.

    picows parses a head once it has all of it, then reports the response it parsed or fails on
    any line, with the head; it gives up unparsed on a head of ``PICOWS_MAX_HEAD`` bytes or more.
    """
    if exc.raw_header is None:
        # picows 2 attaches the head to every handshake error it raises.
        return None  # pragma: no cover
    if exc.response is None and len(exc.raw_header) >= PICOWS_MAX_HEAD:
        return None
    return exc.raw_header


async def _handshake_error(
    exc: WSHandshakeError, sock: socket.socket | None, connection: ClientConnection | None
) -> Exception:
    """Translate a handshake failure detected by picows into websockets' exception.

    A refused or malformed response is read again as websockets reads it, with its body from
    ``sock`` (None: only the bytes picows read), and logged with ``connection`` at DEBUG; the
    headers of a refused 101 are checked again with websockets' rules and in its order.
    """
    head = _whole_head(exc)
    if head is not None:
        received = head + b"\r\n\r\n" + (exc.raw_body or b"")
        try:
            response = await read_response(received, sock)
        except StatusLineTooLong as error:
            return error
        except Exception as error:
            return _invalid_message(error)
        if connection is not None and connection.debug:
            connection._log_response(response)
        if response.status_code != 101:
            return InvalidStatus(response)
    if isinstance(exc, WSInvalidHeaderError):
        # picows 2 attaches the response to every header error it raises.
        if exc.response is not None:  # pragma: no branch
            try:
                _check_switching(_response(exc.response).headers)
            except InvalidHeader as error:
                return error
        if isinstance(exc, WSInvalidUpgradeError):
            return InvalidUpgrade(exc.name, None if exc.value is None else _latin1(exc.value))
        if exc.value is None:
            return InvalidHeader(exc.name)
        return InvalidHeaderValue(exc.name, _latin1(exc.value))
    return _invalid_message(ValueError(str(exc)) if isinstance(exc, WSInvalidMessageError) else exc)


class connect:
    """Connect to the WebSocket server at ``uri``, as :func:`websockets.asyncio.client.connect`.

    ``await connect(...)`` returns a :class:`ClientConnection`; ``async with connect(...)``
    closes it on exit; ``async for websocket in connect(...)`` reconnects with exponential backoff.
    """

    def __init__(
        self,
        uri: str,
        *,
        origin: Origin | None = None,
        extensions: Sequence[ClientExtensionFactory] | None = None,
        subprotocols: Sequence[Subprotocol] | None = None,
        compression: str | None = "deflate",
        additional_headers: HeadersLike | None = None,
        user_agent_header: str | None = USER_AGENT,
        proxy: str | Literal[True] | None = True,
        process_exception: Callable[[Exception], Exception | None] = process_exception,
        open_timeout: float | None = 10,
        ping_interval: float | None = 20,
        ping_timeout: float | None = 20,
        close_timeout: float | None = 10,
        reconnect_delays: Callable[[], Generator[float]] = backoff,
        max_size: int | tuple[int | None, int | None] | None = 2**20,
        max_queue: int | tuple[int | None, int | None] | None = 16,
        write_limit: int | tuple[int, int | None] = 2**15,
        logger: LoggerLike | None = None,
        create_connection: type[ClientConnection] | None = None,
        **kwargs: Any,
    ) -> None:
        # A subclass of ClientConnection, created as ClientConnection is.
        self.connection_class = create_connection or ClientConnection
        self.uri = uri
        self.ws_uri = parse_uri(uri)
        if not self.ws_uri.secure and kwargs.get("ssl") is not None:
            raise ValueError("ssl argument is incompatible with a ws:// URI")
        extensions = checked_options(
            subprotocols, compression, extensions, max_queue, enable_client_permessage_deflate
        )
        self.origin = origin
        self.extensions = extensions
        self.subprotocols = subprotocols
        self.additional_headers = additional_headers
        self.user_agent_header = user_agent_header
        self.proxy = proxy
        self.process_exception = process_exception
        self.open_timeout = open_timeout
        self.reconnect_delays = reconnect_delays
        if logger is None:
            logger = logging.getLogger("websockets.client")
        self.logger: LoggerLike = logger
        self.connection_kwargs: dict[str, Any] = {
            "logger": self.logger,
            "ping_interval": ping_interval,
            "ping_timeout": ping_timeout,
            "close_timeout": close_timeout,
            "max_size": max_size,
            "max_queue": max_queue,
            "write_limit": write_limit,
        }
        self.create_connection_kwargs = kwargs

    def _request_headers(self, wsuri: WebSocketURI, offer: str | None) -> list[tuple[str, str]]:
        headers = Headers()
        headers["Host"] = _host_header(wsuri)
        if wsuri.user_info:
            headers["Authorization"] = build_authorization_basic(*wsuri.user_info)
        if self.origin is not None:
            headers["Origin"] = self.origin
        if offer is not None:
            headers["Sec-WebSocket-Extensions"] = offer
        if self.subprotocols is not None:
            headers["Sec-WebSocket-Protocol"] = ", ".join(self.subprotocols)
        if self.additional_headers is not None:
            headers.update(self.additional_headers)
        if self.user_agent_header is not None:
            headers.setdefault("User-Agent", self.user_agent_header)
        for name, value in headers.raw_items():
            if not (name.isascii() and value.isascii()):
                raise UnsupportedFeature(
                    "non-ascii-request-headers",
                    detail=f"non-ASCII text in the {name} request header",
                )
        return list(headers.raw_items())

    async def _open(self, deadline: float | None) -> ClientConnection:
        """Open the TCP connection and perform one opening handshake."""
        wsuri = self.ws_uri
        kwargs = dict(self.create_connection_kwargs)
        ssl = kwargs.pop("ssl", True if wsuri.secure else None)
        if wsuri.secure and ssl is None:
            raise ValueError("ssl=None is incompatible with a wss:// URI")
        proxy = select_proxy(wsuri, self.proxy, kwargs)
        tls_kwargs = {name: kwargs.pop(name) for name in TLS_KWARGS if name in kwargs}
        if wsuri.secure:
            tls_kwargs.setdefault("server_hostname", wsuri.host)
            if ssl is True:
                ssl = None
        # The event loop refuses TLS keywords without TLS (websockets passes server_hostname for
        # wss:// URIs, so ssl=False too): before connecting, or once connected to a SOCKS proxy.
        # Through an HTTP proxy, they only apply to starting TLS for wss:// URIs.
        refused = None if wsuri.secure and ssl is not False else _refused_tls_keyword(tls_kwargs)
        offer = offer_extensions(self.extensions)
        max_message, max_fragment = limits(self.connection_kwargs["max_size"])
        frame_limits = [size for size in (max_message, max_fragment) if size is not None]
        loop = asyncio.get_running_loop()

        # A duplicate of a ws:// socket outlives picows' close: it reads a refused response's body.
        spare: socket.socket | None = None
        # As in websockets, the connection exists once the TCP connection does: the handshake is
        # logged with it, and picows is given it with the response.
        connection: ClientConnection | None = None
        tls = wsuri.secure or (proxy is not None and proxy.scheme == "https")
        handshake_log = _HandshakeLog(tls) if self.logger.isEnabledFor(logging.DEBUG) else None

        def connected(opened: socket.socket | asyncio.BaseTransport) -> None:
            """Create the connection for what was ``opened``, which is closed if that fails."""
            nonlocal connection
            try:
                connection = self.connection_class(**self.connection_kwargs)
            except BaseException:
                opened.close()
                raise
            if handshake_log is not None:
                handshake_log.connection = connection

        def listener_factory(
            request: WSUpgradeRequest, response: WSUpgradeResponse
        ) -> ClientConnection:
            assert connection is not None
            converted = _response(response)
            if connection.debug:
                connection._log_response(converted)
            _check_switching(converted.headers)
            subprotocol, extensions = check_response(
                converted, subprotocols=self.subprotocols, extensions=self.extensions
            )
            connection._use_extensions(extensions)
            connection._subprotocol = subprotocol
            connection.request = Request(
                request.path.decode(), Headers(list(request.headers.items()))
            )
            connection.response = converted
            return connection

        handshake_timeout = None if deadline is None else max(deadline - loop.time(), 0.001)
        host = f"[{wsuri.host}]" if ":" in wsuri.host else wsuri.host
        # Checked before connecting: a header websockets refuses opens no connection.
        request_headers = self._request_headers(wsuri, offer)
        transport: asyncio.Transport | None = None
        try:
            unix = kwargs.get("unix", False) or _is_unix(kwargs.get("sock"))
            if not unix and proxy is not None and proxy.scheme in ("http", "https"):
                transport = await open_tunnel(
                    proxy, wsuri, kwargs, ssl, tls_kwargs, self.user_agent_header
                )
                if transport.get_extra_info("sslcontext") is None:  # plain text to a ws:// server
                    spare = transport.get_extra_info("socket").dup()
                connected(transport)
            else:
                # compat sets up every connection and hands it to picows (see .handoff), so
                # that the frames of one pass of the event loop go out together.
                sock = await open_socket(wsuri, proxy, kwargs, refused)
                connected(sock)
                if not wsuri.secure:
                    spare = sock.dup()
                transport, _ = await loop.create_connection(
                    asyncio.Protocol,
                    sock=sock,
                    ssl=(ssl or True) if wsuri.secure else None,
                    **tls_kwargs,
                )
            _, listener = await open_client(
                transport,
                listener_factory,
                netloc=f"{host}:{wsuri.port}",
                resource=wsuri.resource_name,
                logger=handshake_log or core_logger,
                read_buffer_size=READ_BUFFER_SIZE,
                max_frame_size=min(frame_limits) if frame_limits else sys.maxsize,
                extra_headers=request_headers,
                handshake_timeout=handshake_timeout,
            )
        except WSHandshakeError as exc:
            error = await _handshake_error(exc, spare, connection)
            if handshake_log is not None:
                handshake_log.failed()
            raise error from error.__cause__
        except (asyncio.CancelledError, TimeoutError):
            if handshake_log is not None:
                handshake_log.failed(aborted=True)
            if transport is not None:
                transport.abort()
            raise
        except Exception:
            # The response to the request refused the handshake, or the TCP connection failed.
            if handshake_log is not None:
                handshake_log.failed()
            raise
        finally:
            if spare is not None:
                spare.close()
        if not isinstance(listener, ClientConnection):
            if handshake_log is not None:
                handshake_log.failed(eof_received=True)
            # The connection ended before the first byte of a response, as websockets' parser
            # reports it: the status line's error, caused by the stream's.
            eof = EOFError("connection closed while reading HTTP status line")
            eof.__cause__ = EOFError("stream ends after 0 bytes, before end of line")
            raise InvalidMessage("did not receive a valid HTTP response") from eof
        return listener

    def _redirect(self, exc: Exception) -> Exception | str:
        """Return the URI to follow after ``exc``, or the exception to raise."""
        if not (
            isinstance(exc, InvalidStatus)
            and exc.response.status_code in (300, 301, 302, 303, 307, 308)
            and "Location" in exc.response.headers
        ):
            return exc
        old = self.ws_uri
        new_uri = urllib.parse.urljoin(self.uri, exc.response.headers["Location"])
        new = parse_uri(new_uri)
        if self.create_connection_kwargs.get("sock") is not None:
            return ValueError(f"cannot follow redirect to {new_uri} with a preexisting socket")
        if old.secure and not new.secure:
            return SecurityError(f"cannot follow redirect to non-secure URI {new_uri}")
        if (old.secure, old.host, old.port) != (new.secure, new.host, new.port):
            if self.create_connection_kwargs.get("unix", False):
                return ValueError(
                    f"cannot follow cross-origin redirect to {new_uri} with a Unix socket"
                )
            if (
                self.create_connection_kwargs.get("host") is not None
                or self.create_connection_kwargs.get("port") is not None
            ):
                return ValueError(
                    f"cannot follow cross-origin redirect to {new_uri} "
                    "with an explicit host or port"
                )
            if self.additional_headers is not None:
                self.additional_headers = Headers(
                    (key, value)
                    for key, value in Headers(self.additional_headers).raw_items()
                    if key.lower() not in ("authorization", "cookie", "proxy-authorization")
                )
        return new_uri

    async def _connect(self) -> ClientConnection:
        loop = asyncio.get_running_loop()
        deadline = None if self.open_timeout is None else loop.time() + self.open_timeout
        try:
            async with asyncio.timeout_at(deadline):
                for _ in range(MAX_REDIRECTS):
                    try:
                        return await self._open(deadline)
                    except Exception as exc:
                        exc_or_uri = self._redirect(exc)
                        if isinstance(exc_or_uri, Exception):
                            if exc_or_uri is exc:
                                raise
                            raise exc_or_uri from exc
                        self.uri = exc_or_uri
                        self.ws_uri = parse_uri(exc_or_uri)
                raise SecurityError(f"more than {MAX_REDIRECTS} redirects")
        except TimeoutError as exc:
            raise TimeoutError("timed out during opening handshake") from exc

    def __await__(self) -> Generator[Any, None, ClientConnection]:
        return self._connect().__await__()

    async def __aenter__(self) -> ClientConnection:
        if hasattr(self, "connection"):
            raise RuntimeError("connect() isn't reentrant")
        self.connection = await self
        return self.connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.connection.__aexit__(exc_type, exc_value, traceback)
        finally:
            del self.connection

    def _check_retryable(self, exc: Exception) -> None:
        """Raise what ``process_exception`` makes of ``exc`` unless it says to retry."""
        try:
            verdict = self.process_exception(exc)
        except Exception as raised:
            verdict = raised
        if verdict is exc:
            raise exc
        if verdict is not None:
            raise verdict from exc

    async def __aiter__(self) -> AsyncIterator[ClientConnection]:
        # A fresh sequence of delays after every connection that opened.
        delays: Generator[float] | None = None
        while True:
            try:
                async with self as connection:
                    yield connection
            except Exception as exc:
                self._check_retryable(exc)
                reason = traceback.format_exception_only(exc)[0].strip()
            else:
                delays = None
                continue
            if delays is None:
                delays = self.reconnect_delays()
            delay = next(delays)
            self.logger.info("connect failed; reconnecting in %.1f seconds: %s", delay, reason)
            await asyncio.sleep(delay)


def unix_connect(path: PathLike | None = None, uri: str | None = None, **kwargs: Any) -> connect:
    """Connect to the WebSocket server listening on the Unix socket at ``path``.

    ``uri`` defaults to ``ws://localhost/``, or ``wss://localhost/`` with an ``ssl`` argument.
    """
    if uri is None:
        uri = "ws://localhost/" if kwargs.get("ssl") is None else "wss://localhost/"
    return connect(uri=uri, unix=True, path=path, **kwargs)
