"""Hostile input against each target's server, compared with websockets.

Every input gets the reference's HTTP status or close code (or a difference declared in the
catalogue under ``reliability.hostile.<name>``); and whatever the reference does, the server
still accepts a well-behaved client afterwards, logs no error, and doesn't allocate what a
frame announced.
"""

from __future__ import annotations

import zlib
from typing import Any

from ..raw import CLIENT_MASK, OP_BINARY, OP_CLOSE, OP_TEXT, encode_frame
from ..reliability import harness
from ..scenario import Pair, family
from ._shapes import echo

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
UPGRADE = ("Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade")
VALID = (*UPGRADE, f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 13")
# Bound on memory a hostile input may cost the server process.
RSS_BOUND = 64 * harness.MIB


def request(*lines: str, first: str = "GET / HTTP/1.1") -> bytes:
    """An HTTP request made of exactly these lines."""
    return ("\r\n".join([first, *lines]) + "\r\n\r\n").encode()


def deflate_bomb(size: int = 100 * harness.MIB) -> bytes:
    """A permessage-deflate payload that inflates to ``size`` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(harness.MIB)
    data = b"".join(compressor.compress(chunk) for _ in range(size // len(chunk)))
    data += compressor.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


REQUESTS: dict[str, bytes] = {
    "request-line-garbage": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    "request-line-no-version": request(*VALID, first="GET /"),
    "request-line-too-long": request(*VALID, first=f"GET /{'a' * 10_000} HTTP/1.1"),
    "missing-key": request(*UPGRADE, "Sec-WebSocket-Version: 13"),
    "bad-key": request(*UPGRADE, "Sec-WebSocket-Key: not-base64!", "Sec-WebSocket-Version: 13"),
    "wrong-version": request(*UPGRADE, f"Sec-WebSocket-Key: {KEY}", "Sec-WebSocket-Version: 99"),
    "header-too-long": request(*VALID, f"X-Long: {'a' * 10_000}"),
    "too-many-headers": request(*VALID, *(f"X-Header-{index}: {index}" for index in range(300))),
}

FRAMES: dict[str, tuple[bytes, tuple[tuple[str, str], ...]]] = {
    "unmasked-frame": (encode_frame(OP_TEXT, b"hello"), ()),
    "length-2-63": (encode_frame(OP_BINARY, b"", mask=CLIENT_MASK, length_override=1 << 63), ()),
    "length-2-63-minus-1": (
        encode_frame(OP_BINARY, b"", mask=CLIENT_MASK, length_override=(1 << 63) - 1),
        (),
    ),
    "deflate-bomb": (
        encode_frame(OP_BINARY, deflate_bomb(), rsv1=True, mask=CLIENT_MASK),
        (("Sec-WebSocket-Extensions", "permessage-deflate"),),
    ),
    "close-reason-invalid-utf8": (
        encode_frame(OP_CLOSE, b"\x03\xe8\xff\xfe\xfd", mask=CLIENT_MASK),
        (),
    ),
}


async def try_request(pair: Pair, url: str, raw: bytes) -> Any:
    """Send a raw handshake request; the status line and whether the server hung up."""
    async with pair.connect_raw(url, request=raw) as client:
        frames, eof = await client.read_until_eof()
        return {"status": client.status, "eof": eof, "frames": len(frames)}


async def try_frame(pair: Pair, url: str, frame: bytes, headers: Any) -> Any:
    """Complete a handshake, send a raw frame; the close frame the server answers with."""
    async with pair.connect_raw(url, headers=headers) as client:
        await client.send(frame)
        frames, eof = await client.read_until_eof()
        return {
            "status": client.status,
            "frames": [frame.trace() for frame in frames if frame.opcode == OP_CLOSE],
            "eof": eof,
        }


async def still_serving(pair: Pair, url: str) -> bool:
    """Whether a well-behaved client still completes a handshake and an echo."""
    async with pair.connect_raw(url) as client:
        await client.send_frame(OP_TEXT, b"ping?")
        frame = await client.read_frame()
        await client.send_close(1000)
        return client.status == 101 and frame is not None and frame.payload == b"ping?"


def unharmed(outcome: Any) -> list[str]:
    """What went wrong in the server beyond its answer: it stopped serving, logged an error or
    allocated what a frame announced."""
    return [
        problem
        for problem, failed in [
            ("stopped serving", not outcome["still_serving"]),
            (f"logged errors {outcome['errors_logged']}", bool(outcome["errors_logged"])),
            ("memory not bounded", not outcome["memory_bounded"]),
        ]
        if failed
    ]


CASES = [
    (f"reliability.hostile.{name}", f"hostile input to the server: {name}", {"name": name})
    for name in [*REQUESTS, *FRAMES]
]


@family("handshake", CASES, sides="server", require=unharmed, debug=True)
async def hostile(pair: Pair, name: str) -> Any:
    """A hostile input to the target's server."""
    before = harness.rss()
    with harness.capture() as logs:
        async with pair.serve(echo) as url:
            if name in REQUESTS:
                outcome = await try_request(pair, url, REQUESTS[name])
            else:
                outcome = await try_frame(pair, url, *FRAMES[name])
            outcome["still_serving"] = await still_serving(pair, url)
    outcome["errors_logged"] = logs.errors()
    outcome["memory_bounded"] = harness.rss() - before < RSS_BOUND
    return outcome
