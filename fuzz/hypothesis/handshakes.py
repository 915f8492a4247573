"""Hypothesis strategies for opening handshakes as bytes: requests to servers, responses to clients.

A generated head starts from a valid handshake and gets one mutation (sometimes none, sometimes
two), so that most examples get past the first check: the request or status line, header names
and values in every byte range, repeated, folded, removed or recased headers, ``Connection`` and
``Upgrade`` token lists, ``Sec-WebSocket-*`` variants, bodies with ``Content-Length`` or chunked,
line ends, truncation, and lines and header counts around websockets' limits, which are read from
the reference at run time.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import itertools
import re
from collections.abc import Callable
from typing import Literal

from hypothesis import strategies as st

from conformance.raw import CLIENT_MASK, OP_BINARY, OP_TEXT, FrameReader, encode_frame
from conformance.targets import REFERENCE, Target

__all__ = [
    "ACCEPT",
    "ORIGIN",
    "REQUEST_FIELDS",
    "REQUEST_KINDS",
    "REQUEST_LINE",
    "RESPONSE_FIELDS",
    "RESPONSE_KINDS",
    "STATUS_LINE",
    "SUBPROTOCOL",
    "Head",
    "Limits",
    "limits",
    "request_kind",
    "requests",
    "response_kind",
    "responses",
]

Side = Literal["request", "response"]

CRLF = b"\r\n"
# Replaced by the Sec-WebSocket-Accept value answering the client's key when a response is sent.
ACCEPT = b"<accept>"
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
# The origin the servers under test accept, besides requests without an Origin header.
ORIGIN = b"http://127.0.0.1"
# The subprotocol servers support and clients offer.
SUBPROTOCOL = b"chat"

REQUEST_LINE = b"GET / HTTP/1.1\r\n"
REQUEST_FIELDS = (
    b"Host: 127.0.0.1\r\n",
    b"Upgrade: websocket\r\n",
    b"Connection: Upgrade\r\n",
    b"Sec-WebSocket-Key: " + KEY + CRLF,
    b"Sec-WebSocket-Version: 13\r\n",
    b"Sec-WebSocket-Protocol: " + SUBPROTOCOL + CRLF,
    b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
)
STATUS_LINE = b"HTTP/1.1 101 Switching Protocols\r\n"
RESPONSE_FIELDS = (
    b"Upgrade: websocket\r\n",
    b"Connection: Upgrade\r\n",
    b"Sec-WebSocket-Accept: " + ACCEPT + CRLF,
)

# The kinds of examples the catalogue may declare differences for: what request_kind() and
# response_kind() return. The handshake properties register a scenario id for each.
REQUEST_KINDS = ("early-bytes",)
RESPONSE_KINDS = ("incomplete-head", "large-head", "101-long-line", "101-reason",
                  "101-status-line", "101-header-checks")


@dataclasses.dataclass(frozen=True)
class Limits:
    """websockets' limits on HTTP heads and bodies (``websockets.http11``)."""

    line: int
    headers: int
    body: int


# Runs of equal bytes at least this long are shown as repetitions.
RUN = 16
# Where websockets' limits and header parsers are read from.
REFERENCE_TARGET = Target(REFERENCE, REFERENCE, "reference")


@functools.cache
def limits() -> Limits:
    """The reference's limits, as configured in this process."""
    http11 = REFERENCE_TARGET.module("http11")
    return Limits(http11.MAX_LINE_LENGTH, http11.MAX_NUM_HEADERS, http11.MAX_BODY_SIZE)


def runs(data: bytes) -> str:
    """``data`` as a Python expression, runs of 16 or more equal bytes written ``b'x' * n``."""
    parts: list[str] = []
    literal = b""
    for byte, group in itertools.groupby(data):
        size = len(list(group))
        if size < RUN:
            literal += bytes([byte]) * size
            continue
        if literal:
            parts.append(repr(literal))
            literal = b""
        parts.append(f"{bytes([byte])!r} * {size}")
    if literal or not parts:
        parts.append(repr(literal))
    return " + ".join(parts)


@dataclasses.dataclass(frozen=True)
class Head:
    """An HTTP request or response exactly as a raw peer sends it.

    ``start`` and each of ``fields`` are whole lines, line ends included, so that a line may end
    in a bare LF, carry a folded continuation or lack a colon; ``end`` closes the head and
    ``after`` follows it (a body, frames). With ``cut``, only the first ``cut`` bytes are sent
    and the sender then closes its side. In a response, :data:`ACCEPT` stands for the
    ``Sec-WebSocket-Accept`` value answering the request.
    """

    start: bytes
    fields: tuple[bytes, ...]
    end: bytes = CRLF
    after: bytes = b""
    cut: int | None = None

    def data(self, accept: bytes = ACCEPT) -> bytes:
        """The bytes sent, with ``accept`` in place of :data:`ACCEPT`."""
        head = self.start + b"".join(self.fields) + self.end
        data = head.replace(ACCEPT, accept) + self.after
        return data if self.cut is None else data[: self.cut]

    def __repr__(self) -> str:
        fields = ", ".join(runs(field) for field in self.fields)
        extra = "" if self.end == CRLF else f", end={self.end!r}"
        extra += f", after={runs(self.after)}" if self.after else ""
        extra += f", cut={self.cut}" if self.cut is not None else ""
        return f"Head({runs(self.start)}, ({fields}{',' if len(self.fields) == 1 else ''}){extra})"


@dataclasses.dataclass
class Draft:
    """A head being mutated."""

    side: Side
    start: bytes
    fields: list[bytes]
    end: bytes = CRLF
    after: bytes = b""
    cut: int | None = None

    def index(self, name: bytes) -> int | None:
        """Position of the first field named ``name`` (any case), if any."""
        for index, field in enumerate(self.fields):
            if field.partition(b":")[0].lower() == name.lower():
                return index
        return None

    def set(self, name: bytes, value: bytes) -> None:
        """Give field ``name`` this value, in place, or append it."""
        line = name + b": " + value + CRLF
        index = self.index(name)
        if index is None:
            self.fields.append(line)
        else:
            self.fields[index] = line

    def freeze(self) -> Head:
        """The head as mutated so far."""
        return Head(self.start, tuple(self.fields), self.end, self.after, self.cut)


def field(name: bytes, value: bytes) -> bytes:
    """A header line."""
    return name + b": " + value + CRLF


def filled(length: int, byte: bytes = b"x") -> bytes:
    """``length`` bytes (none if negative) of one value: a long line or body, shown compactly."""
    return byte * max(length, 0)


# Bytes of header values, reason phrases and names, by range.
CONTROLS = bytes([*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F])
OBS_TEXT = bytes(range(0x80, 0x100))
VISIBLE = bytes(range(0x21, 0x7F))
TOKEN_CHARS = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
BYTE_RANGES = {
    "any": bytes(range(0x100)),
    "controls": CONTROLS,
    "obs-text": OBS_TEXT,
    "visible": VISIBLE,
    "whitespace": b" \t",
    "cr-lf": b"\r\na",
}


def text(max_size: int = 12) -> st.SearchStrategy[bytes]:
    """Bytes from one range (every byte, controls, obs-text, visible, whitespace, CR and LF)."""
    return st.sampled_from(sorted(BYTE_RANGES)).flatmap(
        lambda name: st.lists(st.sampled_from(BYTE_RANGES[name]), max_size=max_size).map(bytes)
    )


def joined(items: st.SearchStrategy[bytes], max_size: int = 4) -> st.SearchStrategy[bytes]:
    """A comma-separated list as written on the wire: any case, spaces, empty elements."""
    separators = st.sampled_from([b",", b", ", b" , ", b",,", b"\t,", b" ", b", ,"])

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        values = draw(st.lists(items, max_size=max_size))
        result = b""
        for index, value in enumerate(values):
            result += (draw(separators) if index else b"") + value
        padding = st.sampled_from([b"", b"", b" ", b"\t", b"  "])
        return draw(padding) + result + draw(padding)

    return build()


def cased(words: list[bytes]) -> st.SearchStrategy[bytes]:
    """One of ``words`` as written, lowercased or uppercased."""
    return st.tuples(st.sampled_from(words), st.sampled_from([0, 0, 1, 2])).map(
        lambda pair: [pair[0], pair[0].lower(), pair[0].upper()][pair[1]]
    )


CONNECTION_TOKENS = [b"Upgrade", b"keep-alive", b"close", b"Upgrade2", b"Up grade",
                     b"HTTP2-Settings"]
UPGRADE_TOKENS = [b"websocket", b"WebSocket", b"h2c", b"websocket/13", b"web socket", b"websocket2",
                  b"HTTP/2.0", b"TLS/1.0"]
EXTENSION_NAMES = [b"permessage-deflate", b"x-webkit-deflate-frame", b"x-unknown", b"", b"bad name"]
EXTENSION_PARAMS = [b"client_max_window_bits", b"server_max_window_bits",
                    b"client_no_context_takeover", b"server_no_context_takeover", b"unknown"]
EXTENSION_VALUES = [None, b"8", b"10", b"15", b"16", b"7", b'"10"', b'"1 0"', b"", b"x", b'"']
PROTOCOLS = [SUBPROTOCOL, b"superchat", b"other", b"", b"ch at", b"CHAT", b"\xe9"]


def connection_values() -> st.SearchStrategy[bytes]:
    """Connection values: lists of options, ``Upgrade`` among them or not."""
    return joined(cased(CONNECTION_TOKENS))


def upgrade_values() -> st.SearchStrategy[bytes]:
    """Upgrade values: lists of protocols, ``websocket`` among them or not."""
    return joined(cased(UPGRADE_TOKENS))


@st.composite
def extension_values(draw: st.DrawFn) -> bytes:
    """A Sec-WebSocket-Extensions value: extensions with parameters, valid or not."""

    @st.composite
    def extension(draw: st.DrawFn) -> bytes:
        name = draw(st.sampled_from(EXTENSION_NAMES))
        params = draw(st.lists(st.tuples(st.sampled_from(EXTENSION_PARAMS),
                                         st.sampled_from(EXTENSION_VALUES)), max_size=3))
        parts = [name] + [p if v is None else p + b"=" + v for p, v in params]
        return draw(st.sampled_from([b"; ", b";", b" ; "])).join(parts)

    return draw(st.one_of(joined(extension(), max_size=2), text()))


def protocol_values() -> st.SearchStrategy[bytes]:
    """Sec-WebSocket-Protocol values: lists of subprotocols, valid tokens or not."""
    return st.one_of(joined(st.sampled_from(PROTOCOLS), max_size=3), text())


@st.composite
def keys(draw: st.DrawFn) -> bytes:
    """Sec-WebSocket-Key values: 16 bytes in Base64 or not, other lengths, not Base64."""
    kind = draw(st.sampled_from(["valid", "length", "unpadded", "text"]))
    if kind == "text":
        return draw(text(28))
    raw = draw(st.binary(min_size=16, max_size=16) if kind == "valid" else st.binary(max_size=24))
    encoded = base64.b64encode(raw)
    return encoded.rstrip(b"=") if kind == "unpadded" else encoded


def versions() -> st.SearchStrategy[bytes]:
    """Sec-WebSocket-Version values: 13, other versions, lists, malformed numbers."""
    return st.one_of(
        st.sampled_from([b"13", b"8", b"13, 8", b"8, 13", b"", b"013", b"14", b"13,13", b"+13",
                         b"1 3", b"\xe913"]),
        text(4),
    )


def accepts() -> st.SearchStrategy[bytes]:
    """Sec-WebSocket-Accept values: the right one (maybe recased or padded), wrong ones."""
    return st.one_of(
        st.sampled_from([ACCEPT, b" " + ACCEPT + b"\t", b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", b"",
                         ACCEPT + b", " + ACCEPT]),
        st.binary(min_size=20, max_size=20).map(base64.b64encode),
        text(28),
    )


ORIGINS = [ORIGIN, b"http://127.0.0.1:80", b"HTTP://127.0.0.1", b"http://evil.example", b"null",
           b"", b"http://127.0.0.1, http://127.0.0.1", b"http://caf\xe9"]


Mutation = Callable[[st.DrawFn, Draft], None]


def header_value(draw: st.DrawFn, draft: Draft) -> None:
    """An extra header whose value holds bytes from one range, possibly surrounded by spaces."""
    padding = st.sampled_from([b"", b" ", b"\t", b"  \t"])
    value = draw(padding) + draw(text()) + draw(padding)
    at = draw(st.integers(0, len(draft.fields)))
    draft.fields.insert(at, b"X-Value:" + value + CRLF)


def header_name(draw: st.DrawFn, draft: Draft) -> None:
    """An extra header whose name is empty, not a token, has spaces, or no colon follows it."""
    name = draw(st.one_of(
        st.lists(st.sampled_from(TOKEN_CHARS), min_size=1, max_size=10).map(bytes),
        text(6),
        st.sampled_from([b"X-Space ", b" X-Lead", b"X(Bad)", b"X-Caf\xe9", b"X\x00Y"]),
    ))
    colon = draw(st.sampled_from([b": ", b":", b"", b" : "]))
    draft.fields.insert(draw(st.integers(0, len(draft.fields))), name + colon + b"v" + CRLF)


def repeat(draw: st.DrawFn, draft: Draft) -> None:
    """A header repeated, with the same value or another one, right after or at the end."""
    if not draft.fields:
        return
    index = draw(st.integers(0, len(draft.fields) - 1))
    line = draft.fields[index]
    name = line.partition(b":")[0]
    if draw(st.booleans()):
        line = field(name, draw(st.sampled_from([b"", b"other", b"13", KEY, SUBPROTOCOL])))
    at = draw(st.sampled_from([index + 1, len(draft.fields)]))
    draft.fields.insert(at, line)


def fold(draw: st.DrawFn, draft: Draft) -> None:
    """An obsolete folded continuation line after a header."""
    if not draft.fields:
        return
    index = draw(st.integers(0, len(draft.fields) - 1))
    continuation = draw(st.sampled_from([b" ", b"\t", b"  "])) + draw(
        st.sampled_from([b"x", b"Upgrade", b"websocket", b""])
    )
    draft.fields.insert(index + 1, continuation + CRLF)


def remove(draw: st.DrawFn, draft: Draft) -> None:
    """A header of the valid handshake left out."""
    if draft.fields:
        del draft.fields[draw(st.integers(0, len(draft.fields) - 1))]


def recase(draw: st.DrawFn, draft: Draft) -> None:
    """Header names in another case, or every line's name and value padded with spaces."""
    style = draw(st.sampled_from(["lower", "upper", "pad"]))
    changed = []
    for line in draft.fields:
        name, colon, value = line.partition(b":")
        if style == "pad":
            changed.append(name + colon + b" \t" + value.rstrip(b"\r\n") + b" \t" + CRLF)
        else:
            changed.append((name.lower() if style == "lower" else name.upper()) + colon + value)
    draft.fields = changed


def line_end(draw: st.DrawFn, draft: Draft) -> None:
    """A line (or every line) ended by LF, CR or CRLF preceded by a CR; the head not closed."""
    ending = draw(st.sampled_from([b"\n", b"\r", b"\r\r\n", b"\n\r"]))
    lines = [draft.start, *draft.fields, draft.end]
    which = draw(st.one_of(st.just(None), st.integers(0, len(lines) - 1)))
    changed = [
        line.removesuffix(CRLF) + ending if which is None or index == which else line
        for index, line in enumerate(lines)
    ]
    draft.start, draft.fields, draft.end = changed[0], changed[1:-1], changed[-1]


def long_line(draw: st.DrawFn, draft: Draft) -> None:
    """The start line or a header line near websockets' line length limit (CRLF included)."""
    limit = limits().line
    length = limit + draw(st.sampled_from([-1, 0, 1, 2, 1000]))
    if draw(st.booleans()):
        if draft.side == "request":
            prefix, suffix = b"GET /", b" HTTP/1.1\r\n"
        else:
            parts = draft.start.split(b" ", 2)
            prefix = b" ".join(parts[:2]) + b" " if len(parts) > 1 else STATUS_LINE[:13]
            suffix = CRLF
        draft.start = prefix + filled(length - len(prefix) - len(suffix)) + suffix
    else:
        name = b"X-Long: "
        at = draw(st.integers(0, len(draft.fields)))
        draft.fields.insert(at, name + filled(length - len(name) - 2) + CRLF)


def many_headers(draw: st.DrawFn, draft: Draft) -> None:
    """Extra headers making the count websockets' limit, one less, or a bit more."""
    total = limits().headers + draw(st.sampled_from([-1, 0, 1, 2]))
    draft.fields.extend(field(b"X-%d" % index, b"v") for index in range(total - len(draft.fields)))


def truncate(draw: st.DrawFn, draft: Draft) -> None:
    """Only part of the head is sent, then the sender closes.

    A whole request followed by the end of the stream isn't generated: whether websockets answers
    it depends on when the end arrives relative to its handshake task.
    """
    head = draft.start + b"".join(draft.fields) + draft.end
    draft.cut = draw(st.integers(0, max(len(head) - 1, 0)))


def setter(name: bytes, values: Callable[[], st.SearchStrategy[bytes]]) -> Mutation:
    """A mutation giving header ``name`` a generated value (added if absent)."""

    def mutate(draw: st.DrawFn, draft: Draft) -> None:
        draft.set(name, draw(values()))

    mutate.__doc__ = f"{name.decode()} set to a generated value"
    return mutate


# Request-only mutations.

METHODS = [b"GET", b"get", b"POST", b"HEAD", b"CONNECT", b"", b"G\xe9T", b"GET\t"]
TARGETS = [b"/", b"/path?query=1", b"", b"*", b"http://127.0.0.1/x", b"/caf\xe9", b"/a b", b"/%7e",
           b"//", b"/\x00", b"/?" + b"q" * 20]
PROTOCOL_VERSIONS = [b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"http/1.1", b"HTTP/1.1 ", b"HTTP/1",
                     b"", b"HTTP/1.1\t", b"HTTP/1.10"]


def request_line(draw: st.DrawFn, draft: Draft) -> None:
    """A request line of generated method, target and version, or arbitrary bytes."""
    if draw(st.integers(0, 4)) == 0:
        draft.start = draw(text(24)) + CRLF
        return
    separator = st.sampled_from([b" ", b" ", b" ", b"  ", b"\t"])
    draft.start = (
        draw(st.sampled_from(METHODS)) + draw(separator) + draw(st.sampled_from(TARGETS))
        + draw(separator) + draw(st.sampled_from(PROTOCOL_VERSIONS)) + CRLF
    )


def frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame, as a client sends it."""
    return encode_frame(opcode, payload, mask=CLIENT_MASK)


def frames_after(draw: st.DrawFn, draft: Draft) -> None:
    """Masked messages sent right behind the request, before the response."""
    messages = draw(st.lists(st.tuples(st.sampled_from([OP_TEXT, OP_BINARY]),
                                       st.sampled_from([b"", b"hi", filled(200)])), max_size=3))
    draft.after = b"".join(frame(opcode, payload) for opcode, payload in messages)


def request_body(draw: st.DrawFn, draft: Draft) -> None:
    """A body of any length announced by Content-Length or sent chunked."""
    body = draw(st.one_of(st.binary(max_size=8), st.sampled_from([0, 1, 4096]).map(filled)))
    if draw(st.booleans()):
        draft.set(b"Transfer-Encoding", draw(st.sampled_from([b"chunked", b"Chunked", b"gzip"])))
        draft.after = chunked(body)
        return
    length = draw(st.sampled_from([b"%d" % len(body), b"0", b"00", b"-0", b"+0", b"", b"abc",
                                   b"0, 0", b" 0 "]))
    draft.set(b"Content-Length", length)
    if draw(st.booleans()):
        draft.fields.append(field(b"Content-Length", draw(st.sampled_from([b"0", length]))))
    draft.after = body


# Mutations of the header block, the same for requests and responses.
HEADER_MUTATIONS: dict[str, Mutation] = {
    "header-value": header_value,
    "header-name": header_name,
    "repeat": repeat,
    "fold": fold,
    "remove": remove,
    "recase": recase,
    "line-end": line_end,
    "long-line": long_line,
    "many-headers": many_headers,
    "connection": setter(b"Connection", connection_values),
    "upgrade": setter(b"Upgrade", upgrade_values),
    "extensions": setter(b"Sec-WebSocket-Extensions", extension_values),
    "protocol": setter(b"Sec-WebSocket-Protocol", protocol_values),
}

REQUEST_MUTATIONS: dict[str, Mutation] = {
    "request-line": request_line,
    **HEADER_MUTATIONS,
    "key": setter(b"Sec-WebSocket-Key", keys),
    "version": setter(b"Sec-WebSocket-Version", versions),
    "origin": setter(b"Origin", lambda: st.one_of(st.sampled_from(ORIGINS), text())),
    "body": request_body,
    "frames-after": frames_after,
    "truncate": truncate,
}


# Response-only mutations.

STATUS_CODES = [b"101", b"100", b"200", b"204", b"301", b"304", b"400", b"403", b"404", b"426",
                b"500", b"503", b"599", b"600", b"099", b"1O1", b"+101", b"0101", b"", b"101.0",
                b"1" * 19]
STATUS_VERSIONS = [b"HTTP/1.1", b"HTTP/1.0", b"http/1.1", b"HTTP/2", b"HTTP/1.1 ", b""]
REASONS = [b"Switching Protocols", b"OK", b"Custom Words", b"", b"caf\xc3\xa9", b"caf\xe9"]


def status_line(draw: st.DrawFn, draft: Draft) -> None:
    """A status line of generated version, code and reason phrase, or arbitrary bytes."""
    if draw(st.integers(0, 5)) == 0:
        draft.start = draw(text(24)) + CRLF
        return
    separator = st.sampled_from([b" ", b" ", b" ", b"  ", b"\t"])
    version = b"HTTP/1.1"
    if draw(st.integers(0, 2)) == 0:
        version = draw(st.sampled_from(STATUS_VERSIONS))
    reason = draw(st.one_of(st.sampled_from(REASONS), text()))
    parts = [version, draw(st.sampled_from(STATUS_CODES))]
    if draw(st.integers(0, 5)):
        parts.append(reason)
    start = parts[0]
    for part in parts[1:]:
        start += draw(separator) + part
    draft.start = start + CRLF


def chunked(body: bytes, size: int = 4000, extension: bytes = b"", trailer: bytes = b"") -> bytes:
    """``body`` in chunks of ``size`` bytes, then the last chunk and ``trailer`` lines."""
    chunks = [body[start : start + size] for start in range(0, len(body), size)]
    encoded = b"".join(b"%x%b\r\n%b\r\n" % (len(chunk), extension, chunk) for chunk in chunks)
    return encoded + b"0" + extension + CRLF + trailer + CRLF


# Bodies longer than this go in chunks of 4000 bytes.
SMALL = 64


def refusal(draw: st.DrawFn, draft: Draft) -> None:
    """Another status than 101, with a body framed by length, chunks or the end of the stream.

    Body sizes include websockets' limit and one byte more; Content-Length may be short, long or
    malformed, chunks may carry extensions or a trailer, or be malformed.
    """
    code = draw(st.sampled_from([b"200", b"204", b"301", b"304", b"400", b"403", b"500", b"100"]))
    draft.start = b"HTTP/1.1 " + code + b" " + draw(st.sampled_from(REASONS)) + CRLF
    limit = limits().body
    body = draw(st.one_of(st.binary(max_size=16), st.sampled_from([0, 4097, limit, limit + 1])
                          .map(filled)))
    framing = draw(st.sampled_from(["length", "length", "chunked", "eof", "length-off",
                                    "length-invalid", "chunked-invalid"]))
    if framing == "eof":
        draft.after = body
    elif framing.startswith("length"):
        declared = b"%d" % len(body)
        if framing == "length-off":
            declared = b"%d" % max(len(body) + draw(st.sampled_from([-1, 1, 100])), 0)
        elif framing == "length-invalid":
            declared = draw(st.sampled_from([b"", b"abc", b"-1", b"+5", b"0x10", b"1" * 19,
                                             b"5, 5", b" 5 ", b"00005"]))
        draft.set(b"Content-Length", declared)
        draft.after = body
    else:
        draft.set(b"Transfer-Encoding", draw(st.sampled_from([b"chunked", b"chunked", b"Chunked",
                                                              b"gzip", b"gzip, chunked"])))
        extension = draw(st.sampled_from([b"", b"", b";name=value", b";x"]))
        trailer = draw(st.sampled_from([b"", b"", b"X-Trailer: 1\r\n", b"not a header\r\n"]))
        size = draw(st.sampled_from([1, 7, 4000])) if len(body) <= SMALL else 4000
        draft.after = chunked(body, size, extension, trailer)
        if framing == "chunked-invalid":
            broken = draw(st.sampled_from([b"zz\r\n", b"\r\n", b"4\r\nnopeXX", b"4\r\nno"]))
            draft.after = broken + draft.after


RESPONSE_MUTATIONS: dict[str, Mutation] = {
    "status-line": status_line,
    **HEADER_MUTATIONS,
    "accept": setter(b"Sec-WebSocket-Accept", accepts),
    "refusal": refusal,
    "truncate": truncate,
}


@st.composite
def heads(draw: st.DrawFn, side: Side) -> Head:
    """A valid head of ``side`` with usually one mutation, sometimes none or two.

    Truncation, when drawn, applies last so that it cuts the mutated bytes.
    """
    if side == "request":
        draft = Draft(side, REQUEST_LINE, list(REQUEST_FIELDS))
        mutations = REQUEST_MUTATIONS
    else:
        draft = Draft(side, STATUS_LINE, list(RESPONSE_FIELDS))
        mutations = RESPONSE_MUTATIONS
    count = draw(st.sampled_from([0, 1, 1, 1, 1, 1, 2]))
    names = draw(st.lists(st.sampled_from(sorted(mutations)), min_size=count, max_size=count))
    for name in sorted(names, key=lambda name: name == "truncate"):
        mutations[name](draw, draft)
    return draft.freeze()


def requests() -> st.SearchStrategy[Head]:
    """Upgrade requests as bytes, valid or with one or two mutations."""
    return heads("request")


def responses() -> st.SearchStrategy[Head]:
    """Responses to an upgrade request as bytes, valid or with one or two mutations."""
    return heads("response")


# Classification of examples by the cause of the differences the catalogue declares for them.

# The picows core refuses a response head of this many bytes or more before parsing it.
CORE_MAX_HEAD = 16 * 1024
# What an accept value is as long as, where the length of a head matters.
ACCEPT_SIZED = b"=" * 28


def head_end(data: bytes) -> int:
    """Where the first empty line ends a head, after its CRLF CRLF; -1 if it doesn't."""
    end = data.find(CRLF + CRLF)
    return -1 if end < 0 else end + 4


def client_frames(data: bytes) -> bool:
    """Whether ``data`` is whole frames a client may send before the response: masked messages."""
    reader = FrameReader()
    frames = reader.feed(data)
    return not reader.buffer and all(
        frame.masked and frame.fin and frame.opcode in (OP_TEXT, OP_BINARY)
        and not (frame.rsv1 or frame.rsv2 or frame.rsv3)
        for frame in frames
    )


def request_kind(head: Head) -> str | None:
    """The kind of request the catalogue may declare a difference for, if any.

    ``early-bytes``: what follows the head isn't frames a client may send yet. websockets
    parses them before answering.
    """
    data = head.data()
    end = head_end(data)
    if end >= 0 and not client_frames(data[end:]):
        return "early-bytes"
    return None


# What the picows core (and websockets) accepts as a header name and value, and how many header
# lines the picows core reads at most.
TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
FIELD_VALUE = re.compile(rb"[\x09\x20-\x7e\x80-\xff]*")
CORE_MAX_HEADERS = 128


def core_status(line: bytes) -> int | None:
    """The status code the picows core reads in a status line (CRLF excluded), if any."""
    try:
        lowered = line.decode().lower()
    except UnicodeDecodeError:
        return None
    parts = line.split(b" ", 2)
    if not lowered.startswith("http/1.1 ") or len(parts) != 3:
        return None
    try:
        return int(parts[1].decode())
    except ValueError:
        return None


def reference_status(line: bytes) -> int | None:
    """The status code websockets reads in a status line (CRLF excluded), if it reads the line."""
    parts = line.split(b" ", 2)
    if (
        len(parts) != 3
        or parts[0] != b"HTTP/1.1"
        or not re.fullmatch(rb"[0-9]{1,18}", parts[1])
        or not FIELD_VALUE.fullmatch(parts[2])
    ):
        return None
    return int(parts[1])


def core_fields(lines: list[bytes]) -> list[tuple[str, str]] | None:
    """The headers the picows core reads in the lines of a head after the status line, names
    lowercased; None if it refuses one of them (and compat then reads the head again)."""
    if len(lines) - 1 > CORE_MAX_HEADERS:
        return None
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        value = value.strip(b" \t")
        if not (colon and TOKEN.fullmatch(name) and FIELD_VALUE.fullmatch(value)):
            return None
        fields.append((name.decode().lower(), value.decode("latin-1")))
    return fields


def core_check(fields: list[tuple[str, str]]) -> str | None:
    """The header the picows core refuses a 101 for, if any: it reads only the first of each."""
    first: dict[str, str] = {}
    for name, value in fields:
        first.setdefault(name, value)
    try:
        length = int(first.get("content-length", "0"))
    except ValueError:
        length = -1
    wanted = {"upgrade": "websocket", "connection": "upgrade"}
    for name, refused in [
        ("transfer-encoding", "transfer-encoding" in first),
        ("content-length", length != 0),
        *((name, first.get(name, "").lower() != value) for name, value in wanted.items()),
        ("sec-websocket-accept", first.get("sec-websocket-accept") != ACCEPT_SIZED.decode()),
    ]:
        if refused:
            return name
    return None


def reference_accepts(name: str, fields: list[tuple[str, str]]) -> bool:
    """Whether websockets accepts the header of a 101 the picows core refused.

    It ignores ``Transfer-Encoding`` and ``Content-Length``, and reads every ``Upgrade`` and
    ``Connection`` header as a token list; compat checks ``Sec-WebSocket-Accept`` as it does.
    """
    if name in ("transfer-encoding", "content-length"):
        return True
    if name == "sec-websocket-accept":
        return False
    headers = REFERENCE_TARGET.module("headers")
    parse = headers.parse_upgrade if name == "upgrade" else headers.parse_connection
    try:
        tokens = [token.lower() for key, value in fields if key == name for token in parse(value)]
    except REFERENCE_TARGET.module("exceptions").InvalidHeader:
        return False
    return tokens == ["websocket"] if name == "upgrade" else "upgrade" in tokens


def response_kind(head: Head) -> str | None:
    """The kind of response the catalogue may declare a difference for, if any.

    The picows core reads response heads: only whole ones (``incomplete-head``: no empty line),
    of less than 16 KiB (``large-head``). When it refuses a 101 head, compat reads it again with
    websockets' rules, except the headers it checks its own way (``101-header-checks``); when it
    accepts one, compat doesn't see its status line (``101-reason``: another reason phrase;
    ``101-status-line``: a line websockets refuses) nor how long its lines are
    (``101-long-line``). A status line websockets reads as 101 and picows refuses is a
    ``101-status-line`` too.
    """
    data = head.data(ACCEPT_SIZED)
    end = head_end(data)
    if end < 0:
        return "incomplete-head"
    if end - 4 >= CORE_MAX_HEAD:
        return "large-head"
    lines = data[: end - 4].split(CRLF)
    status = lines[0]
    core, reference = core_status(status), reference_status(status)
    if 101 not in (core, reference):
        return None
    if core != 101:
        return "101-status-line"
    fields = core_fields(lines)
    if fields is None:
        return None
    refused = core_check(fields)
    if refused is not None:
        return "101-header-checks" if reference_accepts(refused, fields) else None
    if any(len(line) + 2 > limits().line for line in lines):
        return "101-long-line"
    if reference != 101:
        return "101-status-line"
    return None if status + CRLF == STATUS_LINE else "101-reason"
