"""The one use of picows internals (``compat.asyncio.handoff``) still works with this picows.

These tests fail loudly when a picows release changes what the hand-off relies on: the major
version compat pins, ``WSProtocol``'s constructor, and a server-side ``WSProtocol`` writing the
listener's response and delivering the bytes that followed the request as frames.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import picows
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeResponse

from compat.asyncio.handoff import SYNTHETIC_REQUEST, hand_off


def test_picows_major_version_is_the_pinned_one() -> None:
    assert picows.__version__.split(".")[0] == "2"


class Recorder(WSListener):  # type: ignore[misc]
    """Records what picows delivers after the hand-off."""

    def __init__(self) -> None:
        self.connected = False
        self.frames: list[tuple[WSMsgType, bytes]] = []

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.connected = True

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        self.frames.append((frame.msg_type, frame.get_payload_as_bytes()))
        transport.send(WSMsgType.TEXT, b"echo " + frame.get_payload_as_bytes())


class Answer(WSUpgradeResponse):  # type: ignore[misc]
    """A response whose bytes are fixed, as compat's is."""

    def __init__(self, data: bytes) -> None:
        self.version = b"HTTP/1.1"
        self.status = 101
        self.headers: dict[str, str] = {}
        self.body = b""
        self.data = bytearray(data)

    def to_bytes(self) -> bytearray:
        return self.data


class Accepting(asyncio.Protocol):
    """Hands every accepted connection to picows at once, with a frame already received."""

    def __init__(self, listener: Recorder, frame: bytes) -> None:
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
