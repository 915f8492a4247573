"""DEBUG logs of frames: how each side renders the frames it sends and receives.

websockets logs every frame at DEBUG as ``> TEXT 'hello' [5 bytes]`` (sent) or ``< BINARY 00 01
[2 bytes]`` (received): the payload shown as text when it looks like UTF-8 text, even in a binary
frame or a fragment cut inside a character, else as hexadecimal, and elided in the middle beyond
``Frame.MAX_LOG_SIZE`` (75) characters. The scenarios here send payloads around those limits and
cuts, and return the frame lines each side logged (handshake lines are left to ``debug_logs``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

from ..raw import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, close_payload
from ..scenario import LogWatch, Pair, family, scenario
from ._shapes import FrameSpec, both_directions, closed, echo, peer_sends

# A logged frame: direction, opcode, payload and metadata.
FRAME_LINE = re.compile(r"[<>] (?:CONT|TEXT|BINARY|CLOSE|PING|PONG) ")

# Frame.MAX_LOG_SIZE: a payload of more than four times this many bytes is rendered from its first
# 8/3 and last 4/3 of it only, and a representation longer than it is elided in the middle.
LOG_SIZE = 75
HEAD, TAIL = 8 * LOG_SIZE // 3, 4 * LOG_SIZE // 3

# Characters encoded in 2, 3 and 4 bytes.
WIDE = ["é", "€", "😀"]


def frame_lines(logs: LogWatch) -> dict[str, list[str]]:
    """The frame lines the client's and the server's loggers logged, in order."""
    return {
        side: [
            entry["message"]
            for entry in logs.trace(f"websockets.{side}")["connections"]
            if FRAME_LINE.match(entry.get("message", ""))
        ]
        for side in ("client", "server")
    }


def digits(length: int) -> str:
    """ASCII text of ``length`` characters that shows where it was elided."""
    return "".join(str(index % 10) for index in range(length))


def cut_inside(char: str, offset: int) -> str:
    """Long text whose logged head ends, and logged tail starts, ``offset`` bytes into ``char``.

    The head is the first :data:`HEAD` bytes, the tail the last :data:`TAIL` bytes.
    """
    width = len(char.encode())
    return (
        "a" * (HEAD - offset) + char + digits(LOG_SIZE) + char + "z" * (TAIL - (width - offset))
    )


# Long texts cut inside each wide character at every offset, and right after it.
CUT_TEXTS = [
    cut_inside(char, offset) for char in WIDE for offset in range(1, len(char.encode()) + 1)
]

# A message to send: the value, the ``text`` argument of send(), and what the peer receives.
Message = tuple[Any, bool | None, str | bytes]


def plain(value: str | bytes, text: bool | None = None) -> Message:
    """A message sent in one frame, as a str or bytes-like ``value``."""
    if text is True and isinstance(value, bytes):
        return value, True, value.decode(errors="replace")
    if text is False and isinstance(value, str):
        return value, False, value.encode()
    return value, text, value


def fragmented(chunks: Sequence[bytes], text: bool) -> Message:
    """A message sent in fragments of bytes, as text or binary."""
    data = b"".join(chunks)
    return list(chunks), text, data.decode() if text else data


def split(char: str, *around: int) -> list[bytes]:
    """``"ab" + char + "cd"`` encoded, cut at the given byte offsets inside ``char``."""
    data = ("ab" + char + "cd").encode()
    cuts = [0, *(2 + offset for offset in around), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(cuts)]


async def receive(ws: Any, expected: str | bytes) -> dict[str, Any]:
    """The next message, summarised: its type, its length and whether it is ``expected``."""
    message = await ws.recv()
    return {"type": type(message).__name__, "length": len(message), "same": message == expected}


async def echoed(pair: Pair, messages: list[Message], **options: Any) -> Any:
    """Send each message to an echo server and receive it back; both sides log every frame."""
    received = []
    with pair.watching_logs() as logs:
        async with pair.serve(echo, **options) as url, pair.connect(url, **options) as ws:
            for value, text, expected in messages:
                sent = await pair.catch(ws.send(value, text=text))
                received.append({"send": sent, "recv": await pair.catch(receive(ws, expected))})
    return {"exchange": received, "closed": closed(ws), "log": frame_lines(logs)}


LENGTHS = [1, 24, 25, 26, 27, 72, 73, 74, 75, 76, 299, 300, 301, 302, 1000]

ECHO_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("frame-logs.text-lengths", "Text messages around the lengths where logs elide them",
     {"messages": [plain(digits(length)) for length in LENGTHS]}),
    ("frame-logs.binary-lengths", "Binary messages around the lengths where logs elide them",
     {"messages": [plain(bytes(index % 256 for index in range(length))) for length in LENGTHS]}),
    ("frame-logs.binary-text", "Binary messages holding printable UTF-8 text, short and long",
     {"messages": [plain(digits(length).encode()) for length in (5, 26, 76, 301, 1000)]
      + [plain(text.encode()) for text in ("café", "€uro", "😀!", *CUT_TEXTS[:2])]}),
    ("frame-logs.unprintable-text", "Text with characters repr() escapes shows as binary",
     {"messages": [plain(text) for text in (
         "bell\x07", "nbsp\xa0", "zero\u200bwidth", "tab\tnew\nline", "back\\x41slash",
         "\x00" * 80, digits(200) + "\x7f" + digits(150), digits(150) + "\x7f" + digits(200),
     )]}),
    ("frame-logs.utf8-cuts", "Long text whose logged head and tail cut wide characters",
     {"messages": [plain(text) for text in CUT_TEXTS]}),
    ("frame-logs.utf8-cuts-binary", "Long UTF-8 in binary frames cut inside wide characters",
     {"messages": [plain(text, text=False) for text in CUT_TEXTS]}),
    ("frame-logs.split-characters", "Text fragments that split 2-, 3- and 4-byte characters",
     {"messages": [
         fragmented(split(char, *cuts), text=True)
         for char, cuts in (
             ("é", (1,)), ("€", (1,)), ("€", (2,)), ("€", (1, 2)),
             ("😀", (1,)), ("😀", (2,)), ("😀", (3,)), ("😀", (1, 3)), ("😀", (1, 2, 3)),
         )
     ]}),
    ("frame-logs.split-long-fragments", "Long text fragments cut inside wide characters",
     {"messages": [
         fragmented([data[:cut], data[cut:]], text=True)
         for text in CUT_TEXTS
         for data in [text.encode()]
         for cut in (HEAD + 20, len(data) - TAIL - 20)
     ]}),
    ("frame-logs.binary-fragments", "Binary fragments, UTF-8 or not, cut anywhere",
     {"messages": [
         fragmented(chunks, text=False)
         for chunks in (
             split("😀", 1, 2, 3), [b"ab\xff", b"\xf8cd"], [b"ab" + b"\x80" * 5, b"\x80ok"],
             [b"\xfe" * 400, b"\x80" * 3 + b"x" * 400], [b"x" * 199 + b"\xff" + b"y" * 200],
         )
     ]}),
]


@family("attributes", ECHO_CASES)
async def echo_logged(pair: Pair, messages: list[Message]) -> Any:
    """Messages echoed by the server; both sides log each frame they send and receive."""
    return await echoed(pair, messages)


@scenario("attributes")
async def large_frames(pair: Pair) -> Any:
    """Frames whose length takes the 64-bit form, in both directions, without compression."""
    messages = [
        plain(value)
        for length in (65535, 65536, 70000)
        for value in (digits(length), bytes(index % 251 for index in range(length)))
    ]
    return await echoed(pair, messages, compression=None, max_size=2**20)


@scenario("attributes")
async def text_not_utf8(pair: Pair) -> Any:
    """send(bytes, text=True) with invalid UTF-8: both sides log it, the server fails with 1007."""
    return await echoed(pair, [plain(b"ok \xff\xfe", text=True)])


@scenario("attributes")
async def control_payloads(pair: Pair) -> Any:
    """Pings and a pong with text, binary and long payloads, then a close with a long reason."""
    payloads = [
        b"printable ping", b"\x00\x01\x02", b"caf\xc3\xa9", b"tab\tand\r\nnewline",
        digits(125).encode(), bytes(range(125)), b"",
    ]
    with pair.watching_logs() as logs:
        async with pair.serve(echo) as url, pair.connect(url) as ws:
            pongs = []
            for payload in payloads:
                pongs.append("result" in await pair.catch(await ws.ping(payload)))
            await ws.pong(b"\xffunsolicited")
            await ws.pong("a str pong")
            await ws.send("last")
            last = await pair.catch(ws.recv())
            await ws.close(4000, "é" + digits(120))
    return {"pongs": pongs, "last": last, "closed": closed(ws), "log": frame_lines(logs)}


async def summarise(pair: Pair, ws: Any) -> list[Any]:
    """Each message received until the connection closes, summarised; then how it closed."""
    outcomes = []
    for _ in range(20):

        async def next_message() -> dict[str, Any]:
            message = await ws.recv()
            return {
                "type": type(message).__name__,
                "length": len(message),
                "start": message[:8] if isinstance(message, str) else repr(message[:8]),
            }

        outcomes.append(await pair.catch(next_message()))
        if "exception" in outcomes[-1]:
            break
    return outcomes


def raw_frames(*frames: FrameSpec) -> list[FrameSpec]:
    """``frames`` then a normal close frame."""
    return [*frames, (OP_CLOSE, close_payload(1000), {})]


LONG_SPLIT = ("x" * 397 + "😀" + "y" * 397).encode()

RAW_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("frame-logs.raw-split-characters", "a peer's text fragments split wide characters",
     {"frames": raw_frames(
         (OP_TEXT, b"\xf0", {"fin": False}), (OP_CONT, b"\x9f\x98", {"fin": False}),
         (OP_CONT, b"\x80 ok", {}),
         (OP_TEXT, b"ab\xf0", {"fin": False}), (OP_CONT, b"\x9f\x98\x80cd", {}),
         (OP_TEXT, b"a" * 10 + b"\xe2\x82", {"fin": False}), (OP_CONT, b"\xac" + b"b" * 10, {}),
         (OP_TEXT, LONG_SPLIT[:399], {"fin": False}), (OP_CONT, LONG_SPLIT[399:], {}),
         (OP_TEXT, LONG_SPLIT[:398], {"fin": False}), (OP_CONT, LONG_SPLIT[398:], {}),
     )}),
    ("frame-logs.raw-binary", "a peer's binary frames and fragments, UTF-8 or not",
     {"frames": raw_frames(
         (OP_BINARY, b"ab\xff", {"fin": False}), (OP_CONT, b"\xf8cd", {}),
         (OP_BINARY, b"ab" + b"\x80" * 5, {"fin": False}), (OP_CONT, b"\x80\x80", {}),
         (OP_BINARY, b"x" * 199 + b"\xff" + b"y" * 200, {}),
         (OP_BINARY, b"\xc3" * 400, {}),
         (OP_BINARY, "é".encode() * 200, {}),
     )}),
    ("frame-logs.raw-large", "a peer's frames of 64 KiB and more",
     {"frames": raw_frames(
         (OP_TEXT, digits(65536).encode(), {}),
         (OP_BINARY, bytes(index % 253 for index in range(70000)), {}),
         (OP_TEXT, ("😀" * 17000).encode(), {"fin": False}), (OP_CONT, b"", {}),
     )}),
    ("frame-logs.raw-control", "a peer's pings and pongs with text and binary payloads",
     {"frames": raw_frames(
         (OP_PING, b"\x01\x02\x03", {}), (OP_PING, b"plain text", {}),
         (OP_PONG, bytes(range(100)), {}), (OP_PING, digits(125).encode(), {}),
         (OP_PONG, b"caf\xc3\xa9", {}),
     )}),
    *(
        (f"frame-logs.raw-close-{name}", f"a peer's close frame {title}",
         {"frames": [(OP_CLOSE, payload, {})]})
        for name, title, payload in (
            ("one-byte", "with a 1-byte payload", b"\x03"),
            ("bad-reason", "whose reason isn't UTF-8", close_payload(1000, b"bye \xff")),
            ("bad-code", "with code 999", close_payload(999, "why")),
            ("code-5000", "with code 5000", close_payload(5000, "why")),
            ("code-65535", "with code 65535 and no reason", close_payload(65535)),
            ("long-reason", "with a long reason", close_payload(4000, "é" + digits(120))),
            ("empty", "without a payload", b""),
        )
    ),
]

TO_CLIENT, TO_SERVER = both_directions(RAW_CASES)


@family("protocol", TO_CLIENT, sides="client")
async def raw_server_sends(pair: Pair, frames: list[FrameSpec], to: str) -> Any:
    """A raw server sends frames; the client logs them as it receives them."""
    with pair.watching_logs() as logs:
        result = await peer_sends(pair, frames, to=to, receive=lambda ws: summarise(pair, ws))
    return {**result, "log": frame_lines(logs)}


@family("protocol", TO_SERVER, sides="server")
async def raw_client_sends(pair: Pair, frames: list[FrameSpec], to: str) -> Any:
    """A raw client sends frames; the server logs them as it receives them."""
    with pair.watching_logs() as logs:
        result = await peer_sends(pair, frames, to=to, receive=lambda ws: summarise(pair, ws))
    return {**result, "log": frame_lines(logs)}
