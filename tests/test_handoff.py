"""The one use of picows internals (``compat.asyncio.handoff``) still works with this picows.

These tests fail loudly when a picows release changes what the hand-off relies on: the major
version compat pins, ``WSProtocol``'s constructor, a server-side ``WSProtocol`` writing the
listener's response and delivering the bytes that followed the request as frames, and how
``WSTransport`` writes frames, which ``CoalescingTransport`` builds on. They also check what
``CoalescingTransport`` does with the frames of one pass of the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any, cast

import picows.version
import pytest
from multidict import CIMultiDict
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeResponse

from compat.asyncio.handoff import (
    MAX_KEPT_FRAME,
    SYNTHETIC_REQUEST,
    CoalescingTransport,
    hand_off,
)


def test_picows_major_version_is_the_pinned_one() -> None:
    assert picows.version.__version__.split(".")[0] == "2"


class Recorder(WSListener):
    """Records what picows delivers after the hand-off."""

    def __init__(self) -> None:
        self.connected = False
        self.frames: list[tuple[WSMsgType, bytes]] = []

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.connected = True

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        self.frames.append((frame.msg_type, frame.get_payload_as_bytes()))
        transport.send(WSMsgType.TEXT, b"echo " + frame.get_payload_as_bytes())


class Answer(WSUpgradeResponse):
    """A response whose bytes are fixed, as compat's is."""

    def __init__(self, data: bytes) -> None:
        self.version = b"HTTP/1.1"
        self.status = HTTPStatus.SWITCHING_PROTOCOLS
        self.headers = CIMultiDict()
        self.body = b""
        self.data = bytearray(data)

    def to_bytes(self) -> bytearray:
        return self.data


class Accepting(asyncio.Protocol):
    """Hands every accepted connection to picows at once, with a frame already received."""

    def __init__(self, listener: WSListener, frame: bytes) -> None:
        self.listener = listener
        self.frame = frame

    def connection_made(self, transport: Any) -> None:
        hand_off(
            transport,
            self.listener,
            Answer(b"HTTP/1.1 101 Switching Protocols\r\nX-Test: 1\r\n\r\n"),
            received=self.frame,
            logger=logging.getLogger("test.handoff"),
            max_frame_size=2**20,
            read_buffer_size=2048,
        )


def masked_text(payload: bytes) -> bytes:
    """A masked text frame as a client sends it (mask of zeros)."""
    return bytes([0x81, 0x80 | len(payload)]) + b"\x00" * 4 + payload


async def test_hand_off_writes_the_response_and_delivers_what_followed() -> None:
    listener = Recorder()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Accepting(listener, masked_text(b"early")), "127.0.0.1", 0
    )
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        assert head == b"HTTP/1.1 101 Switching Protocols\r\nX-Test: 1\r\n\r\n"
        writer.write(masked_text(b"later"))
        echoed = await asyncio.wait_for(reader.readexactly(2 * (2 + len(b"echo early"))), 2)
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    assert listener.connected
    assert listener.frames == [(WSMsgType.TEXT, b"early"), (WSMsgType.TEXT, b"later")]
    assert echoed == b"\x81\x0aecho early\x81\x0aecho later"


def test_synthetic_request_passes_picows_validation() -> None:
    from picows.picows import (  # type: ignore[attr-defined]
        _parse_http_request,
        _validate_upgrade_request,
    )

    head = SYNTHETIC_REQUEST.split(b"\r\n\r\n")[0]
    assert _validate_upgrade_request(_parse_http_request(head))


class Underlying:
    """A transport under picows' ``WSTransport`` that records how frames reach it.

    Its socket is one end of a socket pair, where picows sends frames itself; ``buffered`` is
    what ``get_write_buffer_size()`` answers.
    """

    def __init__(self, sock: socket.socket, *, buffered: int = 0, tls: bool = False) -> None:
        self.socket = sock
        self.buffered = buffered
        self.tls = tls
        self.calls: list[tuple[str, bytes]] = []
        self.limits = (8192, 32768)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "socket":
            return self.socket
        if name == "ssl_object":
            return object() if self.tls else None
        return default

    def get_write_buffer_size(self) -> int:
        self.calls.append(("size", b""))
        return self.buffered

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.limits

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        assert high is not None and low is not None
        self.limits = (low, high)

    def write(self, data: bytes) -> None:
        assert type(data) is bytes  # a copy, that picows' buffer can be reused
        self.calls.append(("write", data))

    def writelines(self, chunks: Iterable[bytes | memoryview]) -> None:
        self.calls.append(("writelines", b"".join(chunks)))

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        self.calls.append(("close", b""))

    def write_eof(self) -> None:
        self.calls.append(("write_eof", b""))

    def abort(self) -> None:
        self.calls.append(("abort", b""))

    def writes(self) -> list[bytes]:
        """What went to write() and writelines(), in order."""
        return [data for call, data in self.calls if call in ("write", "writelines")]


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A connected socket pair, non-blocking: picows' end, and the peer's."""
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    peer.setblocking(False)
    yield ours, peer
    ours.close()
    peer.close()


def received(peer: socket.socket) -> bytes:
    """What arrived at ``peer`` so far."""
    try:
        return peer.recv(2**20)
    except BlockingIOError:
        return b""


def server_frame(payload: bytes) -> bytes:
    """An unmasked binary frame, as a server sends it."""
    if len(payload) < 126:
        return bytes([0x82, len(payload)]) + payload
    return bytes([0x82, 126]) + len(payload).to_bytes(2, "big") + payload


def ws_transport(underlying: Any) -> WSTransport:
    """picows' server-side transport over ``underlying``."""
    logger = logging.getLogger("test.handoff")
    # picows' stub declares no constructor: this is the one ws_create_server's protocol calls.
    construct = cast("Callable[..., WSTransport]", WSTransport)
    return construct(False, underlying, logger, asyncio.get_running_loop())


async def test_picows_sends_a_frame_itself_when_nothing_is_buffered(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    underlying = Underlying(ours)
    ws_transport(underlying).send(WSMsgType.BINARY, b"abc")
    assert underlying.calls == [("size", b"")]
    assert received(peer) == server_frame(b"abc")


async def test_picows_hands_a_copy_to_write_when_something_is_buffered(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    underlying = Underlying(ours, buffered=1)
    ws_transport(underlying).send(WSMsgType.BINARY, b"abc")
    assert underlying.calls == [("size", b""), ("write", server_frame(b"abc"))]
    assert received(peer) == b""


async def test_picows_hands_every_frame_to_write_on_tls(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    underlying = Underlying(ours, tls=True)
    ws_transport(underlying).send(WSMsgType.BINARY, b"abc")
    assert underlying.calls == [("write", server_frame(b"abc"))]
    assert received(peer) == b""


async def test_picows_writes_a_large_server_frame_with_writelines(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    underlying = Underlying(ours)
    payload = b"x" * 8193
    ws_transport(underlying).send(WSMsgType.BINARY, payload)
    assert underlying.calls == [("writelines", server_frame(payload))]
    assert received(peer) == b""


async def test_frames_of_one_pass_are_written_together(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    underlying = Underlying(ours)
    transport = ws_transport(CoalescingTransport(underlying))  # type: ignore[arg-type]
    for payload in (b"a", b"b", b"c"):
        transport.send(WSMsgType.BINARY, payload)
    # The first frame went out at once, by picows; the others wait for the end of the pass.
    assert received(peer) == server_frame(b"a")
    assert underlying.writes() == []
    await asyncio.sleep(0)
    assert underlying.writes() == [server_frame(b"b") + server_frame(b"c")]


async def test_kept_frames_are_written_at_the_high_water_mark(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    underlying = Underlying(ours)
    coalescing = CoalescingTransport(underlying)  # type: ignore[arg-type]
    coalescing.set_write_buffer_limits(high=2 * len(server_frame(b"b")), low=0)
    transport = ws_transport(coalescing)
    for payload in (b"a", b"b", b"c", b"d"):
        transport.send(WSMsgType.BINARY, payload)
    assert received(peer) == server_frame(b"a")
    assert underlying.writes() == [server_frame(b"b") + server_frame(b"c")]
    await asyncio.sleep(0)
    assert underlying.writes() == [server_frame(b"b") + server_frame(b"c"), server_frame(b"d")]


async def test_a_large_frame_ends_the_window(pair: tuple[socket.socket, socket.socket]) -> None:
    ours, peer = pair
    underlying = Underlying(ours)
    transport = ws_transport(CoalescingTransport(underlying))  # type: ignore[arg-type]
    large = b"x" * MAX_KEPT_FRAME
    for payload in (b"a", b"b", large, b"c"):
        transport.send(WSMsgType.BINARY, payload)
    # The large frame went out with the one kept before it; picows sent the next one itself.
    assert underlying.writes() == [server_frame(b"b") + server_frame(large)]
    assert received(peer) == server_frame(b"a") + server_frame(b"c")


async def test_a_window_that_kept_nothing_makes_the_next_frame_open_none(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    ours, peer = pair
    underlying = Underlying(ours)
    transport = ws_transport(CoalescingTransport(underlying))  # type: ignore[arg-type]
    transport.send(WSMsgType.BINARY, b"a")
    await asyncio.sleep(0)
    for payload in (b"b", b"c", b"d"):
        transport.send(WSMsgType.BINARY, payload)
    assert received(peer) == server_frame(b"a") + server_frame(b"b") + server_frame(b"c")
    await asyncio.sleep(0)
    assert underlying.writes() == [server_frame(b"d")]


@pytest.mark.parametrize("end", ["close", "write_eof", "abort"])
async def test_closing_writes_kept_frames_first_and_ends_coalescing(
    pair: tuple[socket.socket, socket.socket], end: str
) -> None:
    ours, peer = pair
    underlying = Underlying(ours)
    coalescing = CoalescingTransport(underlying)  # type: ignore[arg-type]
    transport = ws_transport(coalescing)
    for payload in (b"a", b"b"):
        transport.send(WSMsgType.BINARY, payload)
    getattr(coalescing, end)()
    transport.send(WSMsgType.BINARY, b"c")
    assert underlying.calls[-3:] == [("write", server_frame(b"b")), (end, b""), ("size", b"")]
    assert received(peer) == server_frame(b"a") + server_frame(b"c")


class Burst(WSListener):
    """Answers every frame with small frames around one picows writes with writelines."""

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        for payload in BURST:
            transport.send(WSMsgType.BINARY, payload)


BURST = [b"one", b"two", b"x" * 10_000, b"three"]


async def test_a_handed_off_connection_writes_every_frame_in_order() -> None:
    """Through asyncio's own transport: picows' sends, kept frames, and a large frame."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Accepting(Burst(), b""), "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
        writer.write(masked_text(b"go") * 2)
        expected = b"".join(server_frame(payload) for payload in BURST) * 2
        answer = await asyncio.wait_for(reader.readexactly(len(expected)), 2)
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    assert answer == expected
