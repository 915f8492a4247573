"""Hypothesis strategies: frames, frame sequences, split points, call sequences and options."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any, Literal

from hypothesis import strategies as st

from conformance.raw import (
    CLIENT_MASK,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    close_payload,
    encode_frame,
)

__all__ = [
    "BOUNDARY_LENGTHS",
    "Call",
    "Plan",
    "Side",
    "calls",
    "close_frames",
    "frames",
    "is_utf8",
    "options",
    "plans",
]

Side = Literal["client", "server"]

# Payload lengths where the frame header changes shape (7-bit, 16-bit, 64-bit lengths).
BOUNDARY_LENGTHS = (0, 1, 125, 126, 127, 65535, 65536)
CONTROL_LIMIT = 125
RESERVED_OPCODES = (0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF)
VALID_CLOSE_CODES = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                     3000, 3999, 4000, 4999)
INVALID_CLOSE_CODES = (0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535)
# Byte strings that are not UTF-8: a bad lead byte, a truncated sequence, an overlong form,
# a surrogate and a code point above U+10FFFF.
INVALID_UTF8 = (b"\xff", b"\xc3(", b"\xe2\x82", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80")


def filled(length: int, pattern: bytes) -> bytes:
    """``length`` bytes repeating ``pattern``."""
    return (pattern * (length // len(pattern) + 1))[:length]


def payloads(max_small: int = 24) -> st.SearchStrategy[bytes]:
    """Arbitrary short payloads, or long ones at the header-length boundaries."""
    long = st.builds(
        filled, st.sampled_from(BOUNDARY_LENGTHS), st.binary(min_size=1, max_size=3)
    )
    return st.one_of(st.binary(max_size=max_small), long)


def utf8_payloads() -> st.SearchStrategy[bytes]:
    """Valid UTF-8: short generated text (multi-byte code points included) or long ASCII."""
    text = st.text(max_size=12).map(lambda text: text.encode())
    long = st.builds(
        filled, st.sampled_from(BOUNDARY_LENGTHS), st.sampled_from([b"a", b"\xc3\xa9", b"ok "])
    )
    return st.one_of(text, long).filter(lambda data: is_utf8(data))


def is_utf8(data: bytes) -> bool:
    """Whether ``data`` decodes as UTF-8."""
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


@st.composite
def invalid_utf8(draw: st.DrawFn) -> bytes:
    """Valid text with an invalid UTF-8 sequence spliced in."""
    valid = draw(st.text(max_size=6)).encode()
    at = draw(st.integers(0, len(valid)))
    return valid[:at] + draw(st.sampled_from(INVALID_UTF8)) + valid[at:]


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    """Any single frame: every opcode, FIN, RSV1-3, masked or not, any length class.

    Control frames get payloads over 125 bytes too; masking is decided by :func:`plans`.
    """
    opcode = draw(st.integers(0x0, 0xF))
    control = opcode >= 0x8
    payload = draw(
        st.one_of(st.binary(max_size=CONTROL_LIMIT + 3), payloads()) if control else payloads()
    )
    return Frame(
        opcode=opcode,
        payload=payload,
        fin=draw(st.booleans()),
        rsv1=draw(st.booleans()),
        rsv2=draw(st.booleans()),
        rsv3=draw(st.booleans()),
        masked=draw(st.integers(0, 3)) == 0,
    )


def control_frames() -> st.SearchStrategy[Frame]:
    """Valid pings and pongs."""
    return st.builds(
        Frame, st.sampled_from([OP_PING, OP_PONG]), st.binary(max_size=CONTROL_LIMIT)
    )


@st.composite
def close_frames(draw: st.DrawFn) -> Frame:
    """Close frames: valid and invalid codes, empty and 1-byte payloads, valid and bad reasons."""
    kind = draw(st.sampled_from(["valid", "invalid-code", "empty", "one-byte", "bad-reason"]))
    if kind == "empty":
        return Frame(OP_CLOSE, b"")
    if kind == "one-byte":
        return Frame(OP_CLOSE, draw(st.binary(min_size=1, max_size=1)))
    codes = INVALID_CLOSE_CODES if kind == "invalid-code" else VALID_CLOSE_CODES
    code = draw(st.sampled_from(codes))
    if kind == "bad-reason":
        reason = draw(invalid_utf8())
    else:
        reason = draw(st.one_of(st.text(max_size=10).map(str.encode), st.just(b"r" * 123)))
    return Frame(OP_CLOSE, close_payload(code, reason[: CONTROL_LIMIT - 2]))


@st.composite
def cut(draw: st.DrawFn, data: bytes, pieces: int) -> list[bytes]:
    """``data`` split at up to ``pieces - 1`` generated positions (empty pieces allowed)."""
    points = sorted(draw(st.lists(st.integers(0, len(data)), max_size=pieces - 1)))
    bounds = [0, *points, len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


@st.composite
def messages(draw: st.DrawFn) -> list[Frame]:
    """A data message, possibly fragmented, with pings and pongs between fragments.

    Text is split at arbitrary bytes, so code points are split across fragments; it may
    hold an invalid UTF-8 sequence.
    """
    text = draw(st.booleans())
    if text:
        data = draw(st.one_of(utf8_payloads(), invalid_utf8()) if draw(st.integers(0, 9)) == 0
                    else utf8_payloads())
    else:
        data = draw(payloads())
    parts = draw(cut(data, 4))
    result: list[Frame] = []
    for index, part in enumerate(parts):
        opcode = (OP_TEXT if text else OP_BINARY) if index == 0 else OP_CONT
        result.append(Frame(opcode, part, fin=index == len(parts) - 1))
        if index < len(parts) - 1:
            result.extend(draw(st.lists(control_frames(), max_size=2)))
    return result


# Protocol violations injected into an otherwise valid sequence.
FAULTS: dict[str, Callable[[], st.SearchStrategy[list[Frame]]]] = {
    "any-frame": lambda: frames().map(lambda frame: [frame]),
    "reserved-opcode": lambda: st.builds(
        Frame, st.sampled_from(RESERVED_OPCODES), st.binary(max_size=4)
    ).map(lambda frame: [frame]),
    "rsv": lambda: st.builds(
        Frame,
        st.sampled_from([OP_TEXT, OP_BINARY, OP_PING]),
        st.just(b"x"),
        rsv1=st.booleans(),
        rsv2=st.booleans(),
        rsv3=st.just(True),
    ).map(lambda frame: [frame]),
    "long-control": lambda: st.builds(
        Frame,
        st.sampled_from([OP_PING, OP_PONG, OP_CLOSE]),
        st.integers(CONTROL_LIMIT + 1, CONTROL_LIMIT + 3).map(lambda n: b"\x03\xe8" + b"c" * n),
    ).map(lambda frame: [frame]),
    "fragmented-control": lambda: st.builds(
        Frame, st.sampled_from([OP_PING, OP_PONG]), st.binary(max_size=3), fin=st.just(False)
    ).map(lambda frame: [frame]),
    "orphan-continuation": lambda: st.builds(
        Frame, st.just(OP_CONT), st.binary(max_size=3), fin=st.booleans()
    ).map(lambda frame: [frame]),
    "data-inside-fragments": lambda: st.tuples(
        st.sampled_from([OP_TEXT, OP_BINARY]), st.sampled_from([OP_TEXT, OP_BINARY])
    ).map(lambda ops: [Frame(ops[0], b"a", fin=False), Frame(ops[1], b"b")]),
    "unfinished-message": lambda: st.sampled_from([OP_TEXT, OP_BINARY]).map(
        lambda op: [Frame(op, b"a", fin=False)]
    ),
    "wrong-mask": lambda: st.just([Frame(OP_TEXT, b"m", masked=True)]),
}


@dataclasses.dataclass(frozen=True)
class Plan:
    """Frames a raw peer sends, where the byte stream is cut into writes, and pauses.

    ``frames[i].masked`` is relative: True flips the sender's normal masking (a masked
    frame from a server, an unmasked one from a client). After the frames at ``pauses``
    the sender waits for the target's close frame: websockets checks UTF-8 when recv()
    takes a message, so what follows an invalid message would otherwise race with it.
    """

    frames: tuple[Frame, ...]
    cuts: tuple[int, ...] = ()
    pauses: tuple[int, ...] = ()

    def stream(self, side: Side) -> bytes:
        """The bytes a raw ``side`` sends."""
        return b"".join(self.encode(frame, side) for frame in self.frames)

    @staticmethod
    def encode(frame: Frame, side: Side) -> bytes:
        masked = frame.masked != (side == "client")
        return encode_frame(
            frame.opcode,
            frame.payload,
            fin=frame.fin,
            rsv1=frame.rsv1,
            rsv2=frame.rsv2,
            rsv3=frame.rsv3,
            mask=CLIENT_MASK if masked else None,
        )

    def segments(self, side: Side) -> list[list[bytes]]:
        """The stream split at pauses into segments, each split at ``cuts`` into writes."""
        encoded = [self.encode(frame, side) for frame in self.frames]
        ends = list(itertools.accumulate(len(data) for data in encoded))
        data = b"".join(encoded)
        stops = {ends[index] for index in self.pauses if index < len(ends)}
        bounds = sorted({0, len(data), *stops, *(min(cut, len(data)) for cut in self.cuts)})
        result: list[list[bytes]] = [[]]
        for start, end in itertools.pairwise(bounds):
            result[-1].append(data[start:end])
            if end in stops and end < len(data):
                result.append([])
        return result

    def close_inside_fragments(self) -> bool:
        """Whether a close frame interrupts a fragmented message before any protocol error."""
        fragmented = False
        for frame in self.frames:
            if frame.opcode == OP_CLOSE:
                return fragmented and frame.fin and not (broken(frame) or core_rejects(frame))
            if broken(frame) or ((frame.opcode == OP_CONT) != fragmented and frame.opcode < 0x8):
                return False
            if frame.opcode < 0x8:
                fragmented = not frame.fin
        return False

    def read_ahead(self) -> bool:
        """Whether a frame the picows core rejects follows other frames.

        picows parses one frame ahead of the one it hands over, so it can fail the connection
        on the later frame before the earlier one is answered (a pong, an earlier error).
        """
        return any(core_rejects(frame) for frame in self.frames[1:])

    def __repr__(self) -> str:
        shown = ", ".join(describe(frame) for frame in self.frames)
        return f"Plan(frames=[{shown}], cuts={self.cuts}, pauses={self.pauses})"


def broken(frame: Frame) -> bool:
    """Whether a frame is a protocol error by itself (sender-relative masking included)."""
    control = frame.opcode >= 0x8
    return (
        frame.opcode in RESERVED_OPCODES
        or frame.rsv1
        or frame.rsv2
        or frame.rsv3
        or frame.masked
        or (control and (not frame.fin or len(frame.payload) > CONTROL_LIMIT))
    )


# Close codes the picows core accepts in a close frame (its WSCloseCode values) below 3000.
CORE_CLOSE_CODES = {0, 1000, 1001, 1002, 1003, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}


def core_rejects(frame: Frame) -> bool:
    """Whether the picows core itself fails the connection on ``frame`` while parsing."""
    control = frame.opcode >= 0x8
    if (
        frame.opcode in RESERVED_OPCODES
        or frame.masked
        or (control and (not frame.fin or len(frame.payload) > CONTROL_LIMIT))
    ):
        return True
    if frame.opcode != OP_CLOSE:
        return False
    if len(frame.payload) == 1:
        return True
    if len(frame.payload) >= 2:
        code = int.from_bytes(frame.payload[:2], "big")
        if code < 3000 and code not in CORE_CLOSE_CODES:
            return True
        try:
            frame.payload[2:].decode()
        except UnicodeDecodeError:
            return True
    return False


def invalid_text_ends(frames: list[Frame]) -> tuple[int, ...]:
    """Indices of frames completing a text message that isn't valid UTF-8."""
    ends: list[int] = []
    text: bytearray | None = None
    for index, frame in enumerate(frames):
        if frame.opcode == OP_TEXT:
            text = bytearray(frame.payload)
        elif frame.opcode == OP_CONT and text is not None:
            text += frame.payload
        elif frame.opcode in (OP_BINARY, OP_CONT):
            text = None
        if frame.opcode in (OP_TEXT, OP_CONT) and frame.fin and text is not None:
            if not is_utf8(bytes(text)):
                ends.append(index)
            text = None
    return tuple(ends)


def describe(frame: Frame) -> str:
    """A compact frame description; long payloads are summarised."""
    payload = frame.payload if len(frame.payload) <= 32 else f"<{len(frame.payload)} bytes>"
    flags = "".join(
        flag for flag, on in (("F", frame.fin), ("1", frame.rsv1), ("2", frame.rsv2),
                              ("3", frame.rsv3), ("M", frame.masked)) if on
    )
    return f"Frame(0x{frame.opcode:X}, {payload!r}, {flags or '-'})"


@st.composite
def plans(draw: st.DrawFn, max_events: int = 4) -> Plan:
    """A frame sequence: messages and pings, maybe one fault, a close, maybe data after it.

    The close at the end makes every sequence terminate without waiting on timeouts.
    """
    events = draw(st.lists(st.one_of(messages(), control_frames().map(lambda f: [f])),
                           max_size=max_events))
    if draw(st.integers(0, 2)) == 0:
        fault = draw(st.sampled_from(sorted(FAULTS)).flatmap(lambda name: FAULTS[name]()))
        events.insert(draw(st.integers(0, len(events))), fault)
    sequence = [frame for event in events for frame in event]
    sequence.append(draw(close_frames()))
    if draw(st.integers(0, 4)) == 0:
        sequence.extend(draw(messages()))
    total = sum(len(frame.payload) + 14 for frame in sequence)
    cuts = tuple(draw(st.lists(st.integers(1, total), max_size=6)))
    return Plan(tuple(sequence), cuts, invalid_text_ends(sequence))


@dataclasses.dataclass(frozen=True)
class Call:
    """One operation on a connection: ``name`` with its ``args``."""

    name: str
    args: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        args = ", ".join(repr(arg) for arg in self.args)
        return f"{self.name}({args})"


def small_text() -> st.SearchStrategy[str]:
    return st.text(max_size=8)


def small_bytes() -> st.SearchStrategy[bytes]:
    return st.binary(max_size=8)


def calls(max_calls: int = 8) -> st.SearchStrategy[list[Call]]:
    """Operations on a connected connection, valid or not, including after closing."""
    ping_data = st.one_of(st.none(), st.sampled_from([b"", b"p", "p"]), small_bytes())
    call = st.one_of(
        st.builds(Call, st.just("send"), st.tuples(st.one_of(small_text(), small_bytes()))),
        st.builds(Call, st.just("send_long"), st.tuples(st.sampled_from(BOUNDARY_LENGTHS))),
        st.builds(
            Call,
            st.just("send"),
            st.tuples(st.one_of(st.lists(small_text(), max_size=3),
                                st.lists(small_bytes(), max_size=3))),
        ),
        st.builds(Call, st.just("send_mixed"), st.tuples(small_text(), small_bytes())),
        st.builds(Call, st.just("send_as"), st.tuples(small_bytes(), st.booleans())),
        st.builds(Call, st.just("send_invalid"), st.tuples(st.sampled_from([42, None, 1.5]))),
        st.builds(Call, st.just("ping"), st.tuples(ping_data, st.booleans())),
        st.builds(Call, st.just("pong"), st.tuples(st.one_of(small_bytes(), small_text()))),
        st.just(Call("recv")),
        st.builds(
            Call,
            st.just("close"),
            st.tuples(
                st.sampled_from([*VALID_CLOSE_CODES, *INVALID_CLOSE_CODES]),
                st.one_of(small_text(), st.just("r" * 124)),
            ),
        ),
    )
    return st.lists(call, max_size=max_calls)


# connect() / serve() keyword arguments websockets and compat both support, with values. Hook
# names and lists of factory names are placeholders, built from each target's modules.
SUPPORTED_CONNECT: dict[str, st.SearchStrategy[Any]] = {
    "compression": st.sampled_from([None, "deflate"]),
    "extensions": st.sampled_from([None, ["client-deflate"]]),
    "max_size": st.sampled_from([None, 2**16, 2**20]),
    "max_queue": st.sampled_from([None, 1, 16, (8, 2)]),
    "write_limit": st.sampled_from([2**15, (2**16, 2**10)]),
    "ping_interval": st.sampled_from([None, 20.0]),
    "ping_timeout": st.sampled_from([None, 20.0]),
    "close_timeout": st.sampled_from([0.5, 1.0]),
    "open_timeout": st.sampled_from([2.0, 5.0]),
    "user_agent_header": st.sampled_from([None, "fuzz/1.0"]),
    "additional_headers": st.sampled_from([None, {"X-Fuzz": "1"}, [("X-Fuzz", "2")]]),
    "origin": st.sampled_from([None, "http://127.0.0.1"]),
    "proxy": st.sampled_from([None]),
}
SUPPORTED_SERVE: dict[str, st.SearchStrategy[Any]] = {
    "compression": st.sampled_from([None, "deflate"]),
    "extensions": st.sampled_from([None, [], ["server-deflate"]]),
    "max_size": st.sampled_from([None, 2**16, 2**20]),
    "max_queue": st.sampled_from([None, 1, 16]),
    "ping_interval": st.sampled_from([None, 20.0]),
    "ping_timeout": st.sampled_from([None, 20.0]),
    "close_timeout": st.sampled_from([0.5, 1.0]),
    "server_header": st.sampled_from([None, "fuzz/1.0"]),
    "origins": st.sampled_from([None, [None, "http://127.0.0.1"]]),
    "subprotocols": st.sampled_from([None, ["chat"]]),
    "process_request": st.sampled_from([None, "sync-hook", "async-hook", "async-basic-auth"]),
    "process_response": st.sampled_from([None, "sync-hook", "async-hook"]),
}


@st.composite
def options(
    draw: st.DrawFn, supported: dict[str, st.SearchStrategy[Any]], unsupported: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """Some supported keywords with values, and some unsupported feature ids to add."""
    names = draw(st.lists(st.sampled_from(sorted(supported)), unique=True, max_size=5))
    kwargs = {name: draw(supported[name]) for name in sorted(names)}
    features = (
        draw(st.lists(st.sampled_from(unsupported), unique=True, max_size=2)) if unsupported else []
    )
    return kwargs, sorted(features)
