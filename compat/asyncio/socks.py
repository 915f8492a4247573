"""Tunnelling a client's TCP connection through an HTTP CONNECT or a SOCKS proxy.

:func:`connect_through_proxy` returns a socket connected to the proxy, on which the proxy relays
bytes to and from the WebSocket server; picows then adds TLS for ``wss://`` on top of it. Errors
match those websockets raises with the same proxy: :exc:`~compat.exceptions.InvalidProxyStatus`
and :exc:`~compat.exceptions.InvalidProxyMessage` for HTTP proxies,
:exc:`~compat.exceptions.ProxyError` for SOCKS proxies, :exc:`OSError` for network errors.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
from typing import Any

from ..datastructures import Headers
from ..exceptions import (
    InvalidProxyMessage,
    InvalidProxyStatus,
    ProxyError,
    SecurityError,
    UnsupportedFeature,
)
from ..headers import build_authorization_basic, build_host
from ..http11 import MAX_LINE_LENGTH, USER_AGENT, Response
from ..uri import Proxy, WebSocketURI
from .tcp import connect_tcp

__all__ = ["ProxyConnectionError", "connect_through_proxy"]

MAX_NUM_HEADERS = int(os.environ.get("WEBSOCKETS_MAX_NUM_HEADERS", "128"))

_token_re = re.compile(rb"[-!#$%&\'*+.^_`|~0-9a-zA-Z]+")
_value_re = re.compile(rb"[\x09\x20-\x7e\x80-\xff]*")
_digits_re = re.compile(rb"[0-9]+")

SOCKS_FAILURE = "failed to connect to SOCKS proxy"
SOCKS4_GRANTED = 0x5A
SOCKS5_NO_AUTH, SOCKS5_USERNAME_PASSWORD = 0x00, 0x02
SOCKS5_IPV4, SOCKS5_DOMAIN, SOCKS5_IPV6 = 0x01, 0x03, 0x04
SOCKS5_ADDRESS_SIZES = {SOCKS5_IPV4: 4, SOCKS5_IPV6: 16}


class ProxyConnectionError(OSError):
    """
    Raised when the TCP connection to a SOCKS proxy fails.

    websockets lets python-socks' exception of this name through; like it, this is an
    :exc:`OSError`, so ``async for ... in connect(...)`` retries.
    """


class _Stream:
    """Bounded reads from a non-blocking socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.loop = asyncio.get_running_loop()

    async def _fill(self) -> None:
        data = await self.loop.sock_recv(self.sock, 4096)
        if not data:
            raise EOFError("connection closed by proxy")
        self.buffer += data

    async def read_exactly(self, size: int) -> bytes:
        """Read ``size`` bytes."""
        while len(self.buffer) < size:
            await self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    async def read_line(self) -> bytes:
        """Read a CRLF-terminated line of at most :data:`MAX_LINE_LENGTH` bytes; strip CRLF."""
        while (end := self.buffer.find(b"\n", 0, MAX_LINE_LENGTH)) == -1:
            if len(self.buffer) >= MAX_LINE_LENGTH:
                raise SecurityError("line too long")
            await self._fill()
        line = bytes(self.buffer[: end + 1])
        del self.buffer[: end + 1]
        if not line.endswith(b"\r\n"):
            raise EOFError("line without CRLF")
        return line[:-2]


async def connect_through_proxy(
    proxy: Proxy,
    wsuri: WebSocketURI,
    options: dict[str, Any],
    *,
    user_agent_header: str | None = USER_AGENT,
) -> socket.socket:
    """
    Return a non-blocking socket tunnelled through ``proxy`` to the server of ``wsuri``.

    ``options`` are ``family``, ``proto``, ``flags`` and ``local_addr`` for the connection to the
    proxy; like websockets, only ``local_addr`` applies to SOCKS proxies. The socket is closed if
    this fails or is cancelled.
    """
    if proxy.scheme == "https":
        raise UnsupportedFeature("https:// proxies", "use an http://, socks4:// or socks5:// proxy")
    if proxy.scheme == "http":
        sock = await connect_tcp(proxy.host, proxy.port, **options)
        tunnel = _http_connect(sock, proxy, wsuri, user_agent_header)
    else:
        sock = await _connect_socks_proxy(proxy, options.get("local_addr"))
        tunnel = _socks_connect(sock, proxy, wsuri)
    try:
        await tunnel
    except BaseException:
        sock.close()
        raise
    return sock


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


async def _http_connect(
    sock: socket.socket, proxy: Proxy, wsuri: WebSocketURI, user_agent_header: str | None
) -> None:
    """Open a tunnel with ``CONNECT``; raise unless the proxy answers with a 2xx status."""
    loop = asyncio.get_running_loop()
    await loop.sock_sendall(sock, _connect_request(proxy, wsuri, user_agent_header))
    try:
        response = await _read_response(_Stream(sock))
    except (EOFError, SecurityError, ValueError) as exc:
        raise InvalidProxyMessage("did not receive a valid HTTP response from proxy") from exc
    if not 200 <= response.status_code < 300:
        raise InvalidProxyStatus(response)


async def _read_response(stream: _Stream) -> Response:
    """
    Read the status line and headers of a proxy's response; proxies may answer in HTTP/1.0.

    Raises :exc:`EOFError`, :exc:`SecurityError` or :exc:`ValueError` if it's malformed.
    """
    status_line = await stream.read_line()
    parts = status_line.split(b" ", 2)
    if len(parts) != 3:
        raise ValueError(f"invalid HTTP status line: {status_line!r}")
    protocol, raw_status, raw_reason = parts
    if protocol not in (b"HTTP/1.1", b"HTTP/1.0"):
        raise ValueError(f"unsupported protocol: {protocol!r}")
    if not _digits_re.fullmatch(raw_status) or not 100 <= int(raw_status) < 600:
        raise ValueError(f"invalid status code: {raw_status!r}")
    if not _value_re.fullmatch(raw_reason):
        raise ValueError(f"invalid HTTP reason phrase: {raw_reason!r}")
    headers = Headers()
    for _ in range(MAX_NUM_HEADERS + 1):
        line = await stream.read_line()
        if not line:
            break
        name, colon, value = line.partition(b":")
        value = value.strip(b" \t")
        if not colon or not _token_re.fullmatch(name) or not _value_re.fullmatch(value):
            raise ValueError(f"invalid HTTP header line: {line!r}")
        headers.set_insecure(name.decode("ascii"), value.decode("iso-8859-1"))
    else:
        raise SecurityError(f"expected no more than {MAX_NUM_HEADERS} headers")
    return Response(int(raw_status), raw_reason.decode("iso-8859-1"), headers)


async def _connect_socks_proxy(proxy: Proxy, local_addr: tuple[str, int] | None) -> socket.socket:
    """Connect to a SOCKS proxy, failing with :exc:`ProxyConnectionError`."""
    try:
        return await connect_tcp(proxy.host, proxy.port, local_addr=local_addr)
    except OSError as exc:
        message = f"Could not connect to proxy {proxy.host}:{proxy.port} [{exc.strerror}]"
        raise ProxyConnectionError(exc.errno, message) from exc


async def _socks_connect(sock: socket.socket, proxy: Proxy, wsuri: WebSocketURI) -> None:
    """
    Open a tunnel with SOCKS4 or SOCKS5.

    ``socks4a`` and ``socks5h`` let the proxy resolve the server's name; ``socks4`` and
    ``socks5`` resolve it locally. Protocol failures raise :exc:`ProxyError`; network and name
    resolution errors propagate.
    """
    handshake = _socks4 if proxy.scheme.startswith("socks4") else _socks5
    remote_dns = proxy.scheme in ("socks4a", "socks5h")
    try:
        await handshake(sock, _Stream(sock), proxy, wsuri, remote_dns)
    except (EOFError, ValueError) as exc:
        raise ProxyError(SOCKS_FAILURE) from exc


def _ip_version(host: str) -> int | None:
    """Return 4 or 6 if ``host`` is an IP address, else :obj:`None`."""
    try:
        return ipaddress.ip_address(host).version
    except ValueError:
        return None


async def _resolve(host: str, port: int, family: int) -> str:
    """Resolve ``host`` locally, preferring IPv4 like python-socks, which websockets uses."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"Can't resolve address {host}:{port}")
    return str(min(infos, key=lambda info: info[0])[4][0])


def _pack_string(value: str, encoding: str) -> bytes:
    """Encode a length-prefixed SOCKS5 string; raise :exc:`ValueError` if it doesn't fit."""
    data = value.encode(encoding)
    if len(data) > 255:
        raise ValueError(f"{value!r} is longer than 255 bytes")
    return bytes([len(data)]) + data


async def _socks4(
    sock: socket.socket, stream: _Stream, proxy: Proxy, wsuri: WebSocketURI, remote_dns: bool
) -> None:
    """SOCKS4 ``CONNECT``, or SOCKS4a when the proxy resolves the name; user id is the username."""
    host = wsuri.host
    if not remote_dns and _ip_version(host) is None:
        host = await _resolve(host, wsuri.port, socket.AF_INET)
    user_id = (proxy.username or "").encode("ascii") + b"\0"
    if _ip_version(host) == 4:
        address, domain = socket.inet_aton(host), b""
    else:
        address, domain = b"\0\0\0\1", host.encode("idna") + b"\0"
    request = b"\4\1" + wsuri.port.to_bytes(2, "big") + address + user_id + domain
    await asyncio.get_running_loop().sock_sendall(sock, request)
    reply = await stream.read_exactly(8)
    if reply[0] != 0 or reply[1] != SOCKS4_GRANTED:
        raise ValueError(f"SOCKS4 request rejected: {reply[:2].hex()}")


async def _socks5(
    sock: socket.socket, stream: _Stream, proxy: Proxy, wsuri: WebSocketURI, remote_dns: bool
) -> None:
    """SOCKS5 ``CONNECT``, with username/password authentication if the proxy address has it."""
    loop = asyncio.get_running_loop()
    methods = bytes([SOCKS5_NO_AUTH])
    if proxy.username and proxy.password:
        methods += bytes([SOCKS5_USERNAME_PASSWORD])
    await loop.sock_sendall(sock, b"\5" + bytes([len(methods)]) + methods)
    version, method = await stream.read_exactly(2)
    if version != 5 or method not in methods:
        raise ValueError(f"unexpected SOCKS5 method selection: {version}, {method}")
    if method == SOCKS5_USERNAME_PASSWORD:
        assert proxy.username is not None and proxy.password is not None
        credentials = _pack_string(proxy.username, "ascii") + _pack_string(proxy.password, "ascii")
        await loop.sock_sendall(sock, b"\1" + credentials)
        if await stream.read_exactly(2) != b"\1\0":
            raise ValueError("SOCKS5 username and password authentication failed")

    host = wsuri.host
    if not remote_dns and _ip_version(host) is None:
        host = await _resolve(host, wsuri.port, socket.AF_UNSPEC)
    match _ip_version(host):
        case 4:
            address = bytes([SOCKS5_IPV4]) + socket.inet_pton(socket.AF_INET, host)
        case 6:
            address = bytes([SOCKS5_IPV6]) + socket.inet_pton(socket.AF_INET6, host)
        case _:
            address = bytes([SOCKS5_DOMAIN]) + _pack_string(host, "idna")
    await loop.sock_sendall(sock, b"\5\1\0" + address + wsuri.port.to_bytes(2, "big"))

    if await stream.read_exactly(3) != b"\5\0\0":
        raise ValueError("SOCKS5 connect request rejected")
    (address_type,) = await stream.read_exactly(1)
    if address_type == SOCKS5_DOMAIN:
        (size,) = await stream.read_exactly(1)
    elif address_type in SOCKS5_ADDRESS_SIZES:
        size = SOCKS5_ADDRESS_SIZES[address_type]
    else:
        raise ValueError(f"invalid SOCKS5 address type: {address_type}")
    await stream.read_exactly(size + 2)
