"""
Rarely taken paths of compat's client transports, run on real sockets on 127.0.0.1: connecting
over TCP (resolution, ``local_addr``, failures, cancellation), through an HTTP proxy's tunnel and
without python-socks; the transports compat hands to picows; picows' lowest log level; extensions
of other implementations. Where websockets can do the same, it must have the same outcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import importlib.util
import logging
import os
import socket
import ssl
import sys
import types
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
import trustme
from picows import PICOWS_DEBUG_LL
from websockets.asyncio.server import ServerConnection, serve

from compat.asyncio.handoff import CoalescingTransport, UnixTransport
from tests.conftest import echo_websocket, failure
from tests.differential import check
from tests.proxyserver import (
    ECHO,
    differential,
    exchange,
    free_port,
    http_proxy,
    tcp_server,
)

TIMEOUT = 10.0

# asyncio's error for a keyword that starting TLS doesn't take.
START_TLS_REFUSES_SSL_OTHER = (
    "BaseEventLoop.start_tls() got an unexpected keyword argument 'ssl_other'"
)


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ignore the proxies configured where the tests run: ``connect()`` uses them by default."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


# Connecting over TCP.


@pytest.fixture
async def resolver(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """
    Names that the running loop's resolver gives the listed numeric addresses, in order, for
    websockets and compat alike: this system's resolver has no name with several addresses (and
    never answers with none). Connections still go to those addresses over real sockets.
    """
    names: dict[str, list[str]] = {}
    loop = asyncio.get_running_loop()
    getaddrinfo = loop.getaddrinfo

    async def resolve(host: Any, port: Any, **kwargs: Any) -> list[Any]:
        if host not in names:
            return await getaddrinfo(host, port, **kwargs)
        return [
            info for address in names[host] for info in await getaddrinfo(address, port, **kwargs)
        ]

    monkeypatch.setattr(loop, "getaddrinfo", resolve)
    return names


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        ([], "getaddrinfo() returned empty list"),
        (["127.0.0.1", "127.0.0.1"], "[Errno 111] Connect call failed ('127.0.0.1', {port})"),
        (
            ["::1", "127.0.0.1"],
            "Multiple exceptions: [Errno 111] Connect call failed ('::1', {port}, 0, 0), "
            "[Errno 111] Connect call failed ('127.0.0.1', {port})",
        ),
    ],
    ids=["none", "same-address-twice", "two-families"],
)
async def test_each_address_is_tried(
    resolver: dict[str, list[str]], addresses: list[str], expected: str
) -> None:
    """
    Every address of the server's name is tried in turn; when all fail, the errors are reported
    together, or once if they read the same, as asyncio reports them.
    """
    resolver["several.test"] = addresses
    port = free_port()
    outcome = await differential(f"ws://several.test:{port}/", open_timeout=TIMEOUT)
    assert outcome[2] == expected.format(port=port)


async def test_a_later_address_is_used(resolver: dict[str, list[str]], server_port: int) -> None:
    """When the first address refuses the connection, the next one gets it."""
    resolver["several.test"] = ["::1", "127.0.0.1"]
    assert await differential(f"ws://several.test:{server_port}/") == ECHO


# Without python-socks.


def load_copy(name: str, path: str | None) -> types.ModuleType:
    """Run the source of a module again as a new module, under a name of its own."""
    assert path is not None
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@pytest.fixture
def without_python_socks(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """
    Run compat's SOCKS module again with python-socks hidden, as where it isn't installed, and
    yield a copy of websockets' client loaded the same way; restore compat's module after.
    """
    import websockets.asyncio.client

    import compat.asyncio.socks

    with monkeypatch.context() as hidden:
        hidden.setitem(sys.modules, "python_socks", None)
        importlib.reload(compat.asyncio.socks)
        reference = load_copy(
            "websockets.asyncio.client_without_python_socks",
            websockets.asyncio.client.__file__,
        )
    try:
        assert not compat.asyncio.socks.HAS_PYTHON_SOCKS
        yield reference
    finally:
        importlib.reload(compat.asyncio.socks)
        assert compat.asyncio.socks.HAS_PYTHON_SOCKS


async def test_socks_proxy_without_python_socks(
    without_python_socks: types.ModuleType, server_port: int
) -> None:
    """Without python-socks, connecting through a SOCKS proxy raises websockets' ImportError."""
    from compat.asyncio import client

    uri = f"ws://127.0.0.1:{server_port}/"
    proxy = f"socks5h://127.0.0.1:{free_port()}"
    outcomes = []
    for connect in (without_python_socks.connect, client.connect):
        with pytest.raises(ImportError) as raised:
            async with asyncio.timeout(TIMEOUT):
                await connect(uri, proxy=proxy)
        outcomes.append(str(raised.value))
    assert outcomes == ["connecting through a SOCKS proxy requires python-socks"] * 2
    # HTTP proxies don't need it.
    async with tcp_server(relaying_proxy()) as port:
        assert await exchange("compat", uri, proxy=f"http://127.0.0.1:{port}") == ECHO


# Through an HTTP proxy.


def relaying_proxy() -> Any:
    """An HTTP proxy that opens the tunnel asked for with ``CONNECT`` and relays both ways."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        host, _, port = head.split(b" ")[1].decode().rpartition(":")
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(pipe(reader, server_writer), pipe(server_reader, writer))

    return handle


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def localhost_tls_port(authority: trustme.CA) -> AsyncIterator[int]:
    """Port of a websockets echo server on 127.0.0.1, over TLS, certified for localhost only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("localhost").configure_cert(context)
    async with serve(echo_websocket, "127.0.0.1", 0, ssl=context) as server:
        yield server.sockets[0].getsockname()[1]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"server_hostname": "localhost"}, ECHO),
        ({"server_hostname": "localhost", "ssl_handshake_timeout": TIMEOUT}, ECHO),
        ({"server_hostname": "example.com"}, "SSLCertVerificationError"),
        ({}, "SSLCertVerificationError"),
    ],
    ids=["server-hostname", "ssl-handshake-timeout", "wrong-server-hostname", "address"],
)
async def test_tls_keywords_through_http_proxy(
    authority: trustme.CA, localhost_tls_port: int, kwargs: dict[str, Any], expected: Any
) -> None:
    """Through an HTTP proxy, ``server_hostname`` and ``ssl_*`` apply to TLS to the server."""
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    async with tcp_server(relaying_proxy()) as port:
        outcome = await differential(
            f"wss://127.0.0.1:{localhost_tls_port}/",
            proxy=f"http://127.0.0.1:{port}",
            ssl=trusting,
            **kwargs,
        )
    if isinstance(expected, str):
        assert outcome[:2] == ("raised", expected)
    else:
        assert outcome == expected


@pytest.mark.parametrize(
    ("secure", "expected"),
    [
        (True, ("raised", "TypeError", START_TLS_REFUSES_SSL_OTHER)),
        (False, ECHO),
    ],
    ids=["wss", "ws"],
)
async def test_unknown_ssl_keyword_through_http_proxy(
    authority: trustme.CA,
    localhost_tls_port: int,
    server_port: int,
    secure: bool,
    expected: tuple[str, ...],
) -> None:
    """
    Through an HTTP proxy, any other ``ssl*`` keyword is for TLS to the server too: starting TLS
    refuses it for ``wss://``; there is no TLS to the server for ``ws://``.
    """
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    if secure:
        uri, kwargs = f"wss://localhost:{localhost_tls_port}/", {"ssl": trusting}
    else:
        uri, kwargs = f"ws://127.0.0.1:{server_port}/", {}
    async with tcp_server(relaying_proxy()) as port:
        outcome = await differential(
            uri, proxy=f"http://127.0.0.1:{port}", ssl_other=True, **kwargs
        )
    assert outcome == expected


@pytest.mark.parametrize(
    ("status_line", "error"),
    [
        (b"HTTP/1.1 2x0 OK", "invalid status code; expected integer; got 2x0"),
        (b"HTTP/1.1 200 O\x7fK", "invalid HTTP reason phrase: O\x7fK"),
    ],
    ids=["status-code", "reason-phrase"],
)
async def test_invalid_status_line_of_http_proxy(status_line: bytes, error: str) -> None:
    """A proxy's status line with a status code or reason phrase that isn't valid."""
    requests: list[bytes] = []
    async with tcp_server(http_proxy(status_line + b"\r\n\r\n", requests)) as port:
        chains = [
            await failure(root, "ws://example.com/", proxy=f"http://127.0.0.1:{port}")
            for root in ["websockets", "compat"]
        ]
    assert chains[0] == chains[1]
    assert chains[0] == [
        ("InvalidProxyMessage", "did not receive a valid HTTP response from proxy"),
        ("ValueError", error),
    ]
    assert len(requests) == 2


# The transports compat hands to picows.


@pytest.fixture
async def tcp_transport() -> AsyncIterator[tuple[asyncio.Transport, socket.socket]]:
    """An asyncio transport of a TCP connection on 127.0.0.1, and the peer's blocking socket."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_connection(asyncio.Protocol, *listener.getsockname()[:2])
        peer, _ = listener.accept()
    try:
        with peer:
            yield transport, peer
    finally:
        transport.abort()


async def test_coalescing_transport_delegates(
    tcp_transport: tuple[asyncio.Transport, socket.socket],
) -> None:
    """What ``CoalescingTransport`` doesn't change is the transport's own."""
    transport, _ = tcp_transport
    coalescing = CoalescingTransport(transport)
    assert coalescing.get_protocol() is transport.get_protocol()
    protocol = asyncio.Protocol()
    coalescing.set_protocol(protocol)
    assert transport.get_protocol() is protocol
    assert coalescing.is_reading()
    coalescing.pause_reading()
    assert not coalescing.is_reading() and not transport.is_reading()
    coalescing.set_write_buffer_limits(high=4096, low=1024)
    assert coalescing.get_write_buffer_limits() == transport.get_write_buffer_limits()
    assert coalescing.get_write_buffer_limits() == (1024, 4096)


def fill(sock: Any) -> int:
    """Write to ``sock`` until the system takes no more; return how many bytes it took."""
    total = 0
    chunk = b"x" * 65536
    while True:
        try:
            total += os.write(sock.fileno(), chunk)
        except BlockingIOError:
            return total


async def test_writing_when_the_socket_takes_nothing(
    tcp_transport: tuple[asyncio.Transport, socket.socket],
) -> None:
    """
    A large frame that the socket refuses at once (``writev()`` fails) goes to the transport,
    which sends it once the peer reads: every byte arrives, in order.
    """
    transport, peer = tcp_transport
    coalescing = CoalescingTransport(transport)
    filled = fill(transport.get_extra_info("socket"))
    assert transport.get_write_buffer_size() == 0
    coalescing.writelines([b"header", b"payload" * 1000])
    assert transport.get_write_buffer_size() == 6 + 7 * 1000  # the transport keeps it
    expected = b"x" * filled + b"header" + b"payload" * 1000
    peer.settimeout(TIMEOUT)
    data = bytearray()

    def read_all() -> None:
        while len(data) < len(expected):
            data.extend(peer.recv(1 << 20))

    await asyncio.to_thread(read_all)
    assert data == expected


async def test_writing_after_closing_opens_no_window(
    tcp_transport: tuple[asyncio.Transport, socket.socket],
) -> None:
    """Once closed, a frame written goes to the transport (which drops it), opening no window."""
    transport, peer = tcp_transport
    coalescing = CoalescingTransport(transport)
    coalescing.close()
    coalescing.write(b"late")
    assert coalescing.get_write_buffer_size() == 0
    peer.settimeout(TIMEOUT)
    assert await asyncio.to_thread(peer.recv, 4096) == b""


async def test_unix_transport_socket_options() -> None:
    """On a Unix connection, TCP options read as 0 and ignore writes; others are the socket's."""
    ours, peer = socket.socketpair()
    with peer:
        transport, _ = await asyncio.get_running_loop().create_unix_connection(
            asyncio.Protocol, sock=ours
        )
        try:
            sock = UnixTransport(transport).get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            real = transport.get_extra_info("socket")
            size = real.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size * 2)
            assert real.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) > size
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == real.getsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF
            )
        finally:
            transport.abort()


async def test_picows_lowest_level_log_during_handshake(
    caplog: pytest.LogCaptureFixture, server_port: int
) -> None:
    """
    With compat's client log at DEBUG and picows' own log at its lowest level, picows' messages
    of the opening handshake are in its log; the request it writes is logged by the client.
    """
    caplog.set_level(logging.DEBUG, logger="websockets.client")  # compat's too
    caplog.set_level(PICOWS_DEBUG_LL, logger="compat.core")
    assert await exchange("compat", f"ws://127.0.0.1:{server_port}/") == ECHO
    core = [
        record.getMessage()
        for record in caplog.records
        if record.name == "compat.core" and record.levelno == PICOWS_DEBUG_LL
    ]
    client = [
        record.getMessage() for record in caplog.records if record.name == "websockets.client"
    ]
    assert core  # such as "WS handshake done, switch to upgraded state"
    assert not [message for message in core if message.startswith("Send upgrade request")]
    assert "> GET / HTTP/1.1" in client


# Extensions.


@pytest.mark.parametrize(
    ("cls", "method", "args"),
    [
        ("Extension", "decode", (None,)),
        ("Extension", "encode", (None,)),
        ("ClientExtensionFactory", "get_request_params", ()),
        ("ClientExtensionFactory", "process_response_params", ([], [])),
        ("ServerExtensionFactory", "process_request_params", ([], [])),
    ],
)
def test_base_classes_leave_methods_to_subclasses(cls: str, method: str, args: Any) -> None:
    """A subclass that doesn't define a method of the interface raises NotImplementedError."""
    outcome = check("extensions.base", lambda m: getattr(getattr(m, cls)(), method)(*args))
    assert outcome[:2] == ("raised", "NotImplementedError")


class Reversing:
    """
    An extension of the application's own, named permessage-deflate but of no implementation's
    permessage-deflate: it reverses the payload of data frames.
    """

    name = "permessage-deflate"

    def decode(self, frame: Any, *, max_size: int | None = None) -> Any:
        return self.encode(frame)

    def encode(self, frame: Any) -> Any:
        if frame.opcode.value > 2:  # control frames
            return frame
        return dataclasses.replace(frame, data=bytes(reversed(frame.data)))


class ReversingClient:
    name = "permessage-deflate"

    def get_request_params(self) -> list[tuple[str, str | None]]:
        return []

    def process_response_params(self, params: Sequence[Any], accepted: Sequence[Any]) -> Any:
        return Reversing()


class ReversingServer:
    name = "permessage-deflate"

    def process_request_params(
        self, params: Sequence[Any], accepted: Sequence[Any]
    ) -> tuple[list[Any], Any]:
        return [], Reversing()


async def test_extension_named_permessage_deflate_of_the_application() -> None:
    """
    An extension named permessage-deflate that isn't one of websockets' is used as it is: it
    sees every data frame, both ways.
    """
    received: list[str | bytes] = []

    async def record(websocket: ServerConnection) -> None:
        async for message in websocket:
            received.append(message)
            await websocket.send(message)

    factories: list[Any] = [ReversingServer()]  # websockets' factories, by what they do
    async with serve(record, "127.0.0.1", 0, extensions=factories, compression=None) as server:
        uri = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        outcome = await differential(uri, extensions=[ReversingClient()], compression=None)
    assert outcome == ECHO
    assert received == ["hello", "hello"]
