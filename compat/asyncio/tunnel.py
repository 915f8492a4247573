"""Tunnelling a client's connection through an ``http://`` or ``https://`` proxy with CONNECT.

compat opens the tunnel on asyncio's transports and hands the result to picows' protocol as it
does a Unix connection (:func:`~compat.asyncio.handoff.open_client`), rather than letting
picows reach the proxy, because only this gives websockets' behaviour:

* picows' own proxy support (``ws_connect(proxy=...)``) sends another ``CONNECT`` request (no
  User-Agent), reports failures as python-socks' ``ProxyError`` with its own messages, and takes
  an SSL context only, not asyncio's keywords for the connection to the proxy;
* a socket handed to picows (``socket_factory``) can only be a plain one, on which picows adds
  TLS to the server: TLS to an ``https://`` proxy would have to sit under it.

So :func:`open_tunnel` connects to the proxy with ``loop.create_connection()`` and the keywords
websockets gives it (TLS to an ``https://`` proxy and the ``proxy_*`` keywords are asyncio's),
reads the proxy's answer itself with websockets' limits and errors, then starts TLS to a
``wss://`` server inside the tunnel with ``loop.start_tls()``, TLS in TLS through an ``https://``
proxy.
"""

from __future__ import annotations

import asyncio
import re
import ssl as ssl_module
from typing import Any, Literal, cast

from ..datastructures import Headers
from ..exceptions import (
    HeaderLineTooLong,
    InvalidProxyMessage,
    InvalidProxyStatus,
    StatusLineTooLong,
    TooManyHeaders,
)
from ..headers import build_authorization_basic, build_host
from ..http11 import (
    FIELD_VALUE,
    MAX_LINE_LENGTH,
    MAX_NUM_HEADERS,
    Response,
    parse_header_line,
    shown,
)
from ..proxy import Proxy
from ..uri import WebSocketURI

__all__ = ["open_tunnel"]

_digits = re.compile(rb"[0-9]{1,18}").fullmatch


def _split_kwargs(
    kwargs: dict[str, Any], tls_kwargs: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """
    Split ``connect()``'s connection keywords between the proxy and the server, as websockets
    does: TLS ones (``ssl*``, ``server_hostname``) are for the server; ``proxy_*`` ones, without
    the prefix, and all others are for the proxy, a later one winning over an earlier one.
    """
    proxy_kwargs: dict[str, Any] = {}
    server_kwargs = dict(tls_kwargs)
    for name, value in kwargs.items():
        if name.startswith("ssl") or name == "server_hostname":
            server_kwargs[name] = value
        else:
            proxy_kwargs[name.removeprefix("proxy_")] = value
    return proxy_kwargs, server_kwargs


async def open_tunnel(
    proxy: Proxy,
    wsuri: WebSocketURI,
    kwargs: dict[str, Any],
    ssl: ssl_module.SSLContext | Literal[False] | None,
    tls_kwargs: dict[str, Any],
    user_agent_header: str | None,
) -> asyncio.Transport:
    """
    Return a transport tunnelled through ``proxy`` to the server of ``wsuri``, with TLS to the
    server for ``wss://``: ``ssl`` (None: the default context; False: asyncio's error once the
    tunnel is open, as with websockets) and ``tls_kwargs``.

    ``kwargs`` are ``connect()``'s other connection keywords. The transport is closed if this
    fails or is cancelled. Raises :exc:`~compat.exceptions.InvalidProxyStatus` unless the proxy
    answers with a 2xx status, :exc:`~compat.exceptions.InvalidProxyMessage` if its answer is
    malformed, and :exc:`OSError` or :exc:`ssl.SSLError` for network and TLS errors.
    """
    proxy_kwargs, server_kwargs = _split_kwargs(kwargs, tls_kwargs)
    if proxy.scheme == "https":
        proxy_kwargs.setdefault("ssl", True)
        if proxy_kwargs["ssl"] is None:
            raise ValueError("proxy_ssl=None is incompatible with an https:// proxy")
    elif proxy_kwargs.get("ssl") is not None:
        raise ValueError("proxy_ssl argument is incompatible with an http:// proxy")
    request = _connect_request(proxy, wsuri, user_agent_header)
    loop = asyncio.get_running_loop()
    transport, answer = await loop.create_connection(
        lambda: _ProxyAnswer(request), proxy.host, proxy.port, **proxy_kwargs
    )
    try:
        try:
            response = await answer.response
        except Exception as exc:
            raise InvalidProxyMessage("did not receive a valid HTTP response from proxy") from exc
        if not 200 <= response.status_code < 300:
            raise InvalidProxyStatus(response)
        if wsuri.secure:
            context: Any = ssl_module.create_default_context() if ssl is None else ssl
            tls = await loop.start_tls(transport, answer, context, **server_kwargs)
            assert tls is not None  # asyncio returns a transport or raises
            transport = tls
    except BaseException:
        transport.abort()
        raise
    return transport


def _connect_request(proxy: Proxy, wsuri: WebSocketURI, user_agent_header: str | None) -> bytes:
    """Build the ``CONNECT`` request that opens a tunnel to the server of ``wsuri``."""
    headers = Headers()
    headers["Host"] = build_host(wsuri.host, wsuri.port, wsuri.secure)
    if user_agent_header is not None:
        headers["User-Agent"] = user_agent_header
    if proxy.user_info is not None:
        headers["Proxy-Authorization"] = build_authorization_basic(*proxy.user_info)
    target = build_host(wsuri.host, wsuri.port, wsuri.secure, always_include_port=True)
    return f"CONNECT {target} HTTP/1.1\r\n".encode() + headers.serialize()


class _ProxyAnswer(asyncio.Protocol):
    """
    The connection to an HTTP proxy until it answers ``CONNECT``.

    Sends the request once connected, then reads the head of the answer line by line as it
    arrives, with websockets' limits and errors (proxies may answer in HTTP/1.0; the body of a
    refusal isn't read). :attr:`response` gets the response, or the error.
    """

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.buffer = bytearray()
        self.eof = False
        self.status: tuple[int, str] | None = None
        self.headers = Headers()
        self.count = 0  # header lines read
        self.response: asyncio.Future[Response] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        cast(asyncio.Transport, transport).write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._read()

    def eof_received(self) -> None:
        self.eof = True
        self._read()

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self._read()

    def _read(self) -> None:
        """Parse what arrived; settle :attr:`response` once the head is complete or invalid."""
        if self.response.done():
            return
        try:
            while (line := self._line()) is not None:
                if self.status is None:
                    self.status = _status(line)
                elif not line:
                    self.response.set_result(Response(*self.status, self.headers))
                    return
                else:
                    self.headers.set_insecure(*parse_header_line(line))
                    self.count += 1
                    if self.count > MAX_NUM_HEADERS:
                        raise TooManyHeaders(f"expected no more than {MAX_NUM_HEADERS} headers")
        except Exception as exc:
            self.response.set_exception(exc)

    def _line(self) -> bytes | None:
        """The next line without its CRLF, or None until it has arrived."""
        part = "status line" if self.status is None else "headers"
        too_long = StatusLineTooLong if self.status is None else HeaderLineTooLong
        end = self.buffer.find(b"\n") + 1
        size = end or len(self.buffer)
        if size > MAX_LINE_LENGTH:
            raise too_long(f"read {size} bytes, expected no more than {MAX_LINE_LENGTH} bytes")
        try:
            if not end:
                if self.eof:
                    raise EOFError(f"stream ends after {size} bytes, before end of line")
                return None
            line = bytes(self.buffer[:end])
            del self.buffer[:end]
            if not line.endswith(b"\r\n"):
                raise EOFError("line without CRLF")
        except EOFError as exc:
            raise EOFError(f"connection closed while reading HTTP {part}") from exc
        return line[:-2]


def _status(line: bytes) -> tuple[int, str]:
    """Status code and reason phrase of a proxy's status line, in HTTP/1.1 or HTTP/1.0."""
    parts = line.split(b" ", 2)
    if len(parts) != 3:
        raise ValueError(f"invalid HTTP status line: {shown(line)}")
    protocol, code, reason = parts
    if protocol not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise ValueError(
            f"unsupported protocol; expected HTTP/1.1 or HTTP/1.0: {shown(line)}"
        )
    if not _digits(code):
        raise ValueError(f"invalid status code; expected integer; got {shown(code)}")
    if not 100 <= int(code) < 600:
        raise ValueError(f"invalid status code; expected 100\u2013599; got {shown(code)}")
    if not FIELD_VALUE.fullmatch(reason):
        raise ValueError(f"invalid HTTP reason phrase: {shown(reason)}")
    return int(code), reason.decode("iso-8859-1")

