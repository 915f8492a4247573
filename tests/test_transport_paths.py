"""
Rarely taken paths of compat's client transports, run on real sockets on 127.0.0.1: without
python-socks, an HTTP proxy's malformed status line; the transports compat hands to picows;
picows' lowest log level; the base classes of extensions. Where websockets can do the same, it
must have the same outcome. The comparisons that run on every pairing of targets are conformance
scenarios: a server name with several addresses (``transport.several-addresses-*``,
``transport.later-address-used``), TLS keywords through an HTTP proxy
(``proxy-options.relayed-*``), an extension of the application's own named permessage-deflate
(``extensions.application-permessage-deflate``).
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
import os
import socket
import sys
import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from picows import PICOWS_DEBUG_LL

from compat.asyncio.handoff import CoalescingTransport, UnixTransport
from tests.conftest import failure
from tests.differential import check
from tests.proxyserver import ECHO, exchange, free_port, http_proxy, relay, tcp_server

TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ignore the proxies configured where the tests run: ``connect()`` uses them by default."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


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
    async with tcp_server(relay()) as port:
        assert await exchange("compat", uri, proxy=f"http://127.0.0.1:{port}") == ECHO


# Through an HTTP proxy.


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
