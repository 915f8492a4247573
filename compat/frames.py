"""WebSocket opcodes, close codes, close frame payloads and frames, as in ``websockets.frames``."""

from __future__ import annotations

import dataclasses
import enum
import os
import re
import struct
from typing import Self

from .exceptions import ProtocolError
from .typing import BytesLike

__all__ = ["Close", "CloseCode", "Frame", "Opcode"]


class Opcode(enum.IntEnum):
    """Opcode values for WebSocket frames."""

    CONT = 0x00
    TEXT = 0x01
    BINARY = 0x02
    CLOSE = 0x08
    PING = 0x09
    PONG = 0x0A


# The opcodes as module constants, in definition order; data frames first, then control frames.
CONT, TEXT, BINARY, CLOSE, PING, PONG = Opcode
DATA_OPCODES = tuple(opcode for opcode in Opcode if opcode < CLOSE)
CTRL_OPCODES = tuple(opcode for opcode in Opcode if opcode >= CLOSE)


class CloseCode(enum.IntEnum):
    """Close code values for WebSocket close frames."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    ABNORMAL_CLOSURE = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015


# Short explanations of close codes, after the IANA registry: "code explanation" lines.
_EXPLANATIONS = """
1000 OK
1001 going away
1002 protocol error
1003 unsupported data
1005 no status received [internal]
1006 abnormal closure [internal]
1007 invalid frame payload data
1008 policy violation
1009 message too big
1010 mandatory extension
1011 internal error
1012 service restart
1013 try again later
1014 bad gateway
1015 TLS handshake failure [internal]
"""

#: Explanations of close codes, used in :meth:`Close.__str__`.
CLOSE_CODE_EXPLANATIONS: dict[int, str] = {
    CloseCode(int(code)): text
    for code, _, text in (line.partition(" ") for line in _EXPLANATIONS.strip().splitlines())
}

#: Close codes that may appear in a close frame (besides 3000-4999); 1005, 1006, 1015 are internal.
EXTERNAL_CLOSE_CODES = {
    code
    for code in CloseCode
    if code not in (CloseCode.NO_STATUS_RCVD, CloseCode.ABNORMAL_CLOSURE, CloseCode.TLS_HANDSHAKE)
}

#: Close codes meaning the connection terminated properly (:exc:`ConnectionClosedOK`).
OK_CLOSE_CODES = {
    CloseCode.NORMAL_CLOSURE,
    CloseCode.GOING_AWAY,
    CloseCode.NO_STATUS_RCVD,
}

# What the thousands of codes 3000 to 4999 are for.
_RANGE_MEANINGS = {3: "registered", 4: "private use"}

_printable_ascii = re.compile(rb"[\x09-\x0D\x20-\x7E]*").fullmatch


def _hex(data: BytesLike) -> str:
    """Show bytes as space-separated hexadecimal pairs."""
    return " ".join(f"{byte:02x}" for byte in bytes(data))


def _utf8_sequence_length(byte: int) -> int:
    """Length of the UTF-8 sequence that ``byte`` starts; 0 for a byte that starts none."""
    if byte < 0x80:
        return 1
    for length, prefix in ((2, 0b110), (3, 0b1110), (4, 0b11110)):
        if byte >> (8 - length - 1) == prefix:
            return length
    return 0


def _looks_like_text(data: bytes, *, clean_start: bool, clean_end: bool) -> bool:
    """
    Tell whether ``data`` is printable UTF-8, possibly cut inside a character at either end.

    A frame of a fragmented message may start or end in the middle of a multibyte character:
    unless the edge must be clean, up to three continuation bytes at the start and an incomplete
    sequence at the end are ignored.
    """
    start, end = 0, len(data)
    if not clean_start:
        while start < min(3, len(data)) and data[start] & 0xC0 == 0x80:
            start += 1
    if not clean_end:
        last, floor = len(data) - 1, max(len(data) - 4, start)
        while last >= floor and data[last] & 0xC0 == 0x80:
            last -= 1
        if last < floor or _utf8_sequence_length(data[last]) > len(data) - last:
            end = last
    try:
        text = data[start:end].decode()
    except UnicodeDecodeError:
        return False
    return "\\x" not in repr(text)


@dataclasses.dataclass
class Frame:
    """
    WebSocket frame: opcode, payload and the FIN and RSV bits.

    Masking and the payload length are handled when frames are read or written.
    """

    # How many characters of payload str() shows; a multiple of 3.
    MAX_LOG_SIZE = int(os.environ.get("WEBSOCKETS_MAX_LOG_SIZE", "75"))
    # Whether str() takes each opcode's payload for text unless it says otherwise.
    DEFAULT_IS_TEXT = {TEXT: True, BINARY: False, CLOSE: True}

    opcode: Opcode
    data: BytesLike
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False

    def check(self) -> None:
        """
        Check that reserved bits are unset and that control frames are short and unfragmented.

        Raises:
            ProtocolError: If the frame breaks one of these rules.
        """
        control = self.opcode in CTRL_OPCODES
        rules = (
            (self.rsv1 or self.rsv2 or self.rsv3, "reserved bits must be 0"),
            (control and len(self.data) > 125, "control frame too long"),
            (control and not self.fin, "fragmented control frame"),
        )
        for broken, message in rules:
            if broken:
                raise ProtocolError(message)

    def __str__(self) -> str:
        """Describe the frame for logs: opcode, elided payload, and type, length, fin flags."""
        expected = self.DEFAULT_IS_TEXT.get(self.opcode)
        shown, is_text = self._payload_repr()
        size = len(self.data)
        flags = [
            "" if is_text == expected else ("text" if is_text else "binary"),
            f"{size} byte" if size == 1 else f"{size} bytes",
            "" if self.fin else "continued",
        ]
        return f"{self.opcode.name} {shown} [{', '.join(flag for flag in flags if flag)}]"

    def _payload_repr(self) -> tuple[str, bool | None]:
        """Show the payload as text when it looks like text, else as hex, eliding the middle."""
        if not self.data:
            return "''", self.DEFAULT_IS_TEXT.get(self.opcode)
        if self.opcode is CLOSE:
            shown, is_text = self._close_repr()
        elif self.opcode in CTRL_OPCODES:
            is_text = _printable_ascii(self.data) is not None
            shown = repr(bytes(self.data).decode("ascii")) if is_text else _hex(self.data)
        else:
            shown, is_text = self._data_repr()
        third = self.MAX_LOG_SIZE // 3
        if len(shown) > self.MAX_LOG_SIZE:
            shown = f"{shown[: 2 * (third - 1)]}...{shown[-(third - 1) :]}"
        return shown, is_text

    def _close_repr(self) -> tuple[str, bool]:
        try:
            return str(Close.parse(self.data)), True
        except (ProtocolError, UnicodeDecodeError):
            return _hex(self.data), False

    def _data_repr(self) -> tuple[str, bool]:
        data = bytes(self.data)
        clean_start = self.opcode != CONT
        third = self.MAX_LOG_SIZE // 3
        if len(data) > 4 * self.MAX_LOG_SIZE:
            # Only the head and tail survive eliding: look at them alone.
            head = data[: 8 * self.MAX_LOG_SIZE // 3]
            tail = data[(-4 * self.MAX_LOG_SIZE) // 3 :]
            is_text = _looks_like_text(
                head, clean_start=clean_start, clean_end=False
            ) and _looks_like_text(tail, clean_start=False, clean_end=self.fin)
            text = head + tail
        else:
            is_text = _looks_like_text(data, clean_start=clean_start, clean_end=self.fin)
            text = data
        if is_text:
            return repr(text.decode(errors="replace")), True
        if len(data) > third:
            # Two filler bytes make the hex long enough to be elided with an ellipsis.
            cut = (third - 1) // 3
            data = data[: 2 * cut] + b"\x00\x00" + data[-cut:]
        return _hex(data), False


@dataclasses.dataclass
class Close:
    """Code and reason of a WebSocket close frame."""

    code: CloseCode | int
    reason: str

    def __str__(self) -> str:
        """Show the code, its meaning, and the reason if any, e.g. ``1000 (OK) bye``."""
        meaning = _RANGE_MEANINGS.get(self.code // 1000) or CLOSE_CODE_EXPLANATIONS.get(
            self.code, "unknown"
        )
        return " ".join(filter(None, (f"{self.code} ({meaning})", self.reason)))

    @classmethod
    def parse(cls, data: BytesLike) -> Self:
        """
        Parse the payload of a close frame; an empty payload means 1005 (no status received).

        Raises:
            ProtocolError: If the payload is one byte long or the code isn't allowed.
            UnicodeDecodeError: If the reason isn't valid UTF-8.
        """
        if isinstance(data, memoryview):
            raise AssertionError("only compressed outgoing frames use memoryview")
        if not data:
            return cls(CloseCode.NO_STATUS_RCVD, "")
        if len(data) == 1:
            raise ProtocolError("close frame too short")
        (code,) = struct.unpack_from("!H", data)
        close = cls(code, bytes(data[2:]).decode())
        close.check()
        return close

    def serialize(self) -> bytes:
        """Build the payload of a close frame, after :meth:`check`."""
        self.check()
        return struct.pack("!H", self.code) + self.reason.encode()

    def check(self) -> None:
        """
        Check that the code may be sent in a close frame.

        Raises:
            ProtocolError: If it may not.
        """
        if self.code not in EXTERNAL_CLOSE_CODES and not 3000 <= self.code < 5000:
            raise ProtocolError("invalid status code")
