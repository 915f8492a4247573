"""compat's permessage-deflate negotiates and compresses like websockets' extension objects."""

from __future__ import annotations

import itertools
import os
import tracemalloc
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import pytest
from websockets.asyncio.client import connect as websockets_connect
from websockets.asyncio.server import serve as websockets_serve
from websockets.client import ClientProtocol
from websockets.datastructures import Headers
from websockets.exceptions import PayloadTooBig as WebSocketsPayloadTooBig
from websockets.extensions import permessage_deflate as reference
from websockets.extensions.base import ClientExtensionFactory as ReferenceClientExtensionFactory
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from compat.asyncio.client import connect
from compat.asyncio.server import serve
from compat.datastructures import Headers as CompatHeaders
from compat.exceptions import PayloadTooBig, ProtocolError
from compat.extensions import permessage_deflate as subject
from compat.extensions.base import ClientExtensionFactory
from compat.extensions.permessage_deflate import PerMessageDeflate
from compat.frames import Frame as CompatFrame
from compat.frames import Opcode as CompatOpcode
from compat.handshake import accept_extensions, negotiate_extensions, offer_extensions
from compat.typing import ExtensionName, ExtensionParameter
from tests.differential import plain

PMD = "permessage-deflate"

FLAGS = ["server_no_context_takeover", "client_no_context_takeover"]

WINDOW_BITS = range(8, 16)

# Parameters that are valid in a handshake, with and without a value.
VALID_PARAMETERS = [
    *FLAGS,
    *(f"{side}_max_window_bits={bits}" for side in ("server", "client") for bits in WINDOW_BITS),
]

VALUELESS_CLIENT_BITS = "client_max_window_bits"

# Parameters that are invalid in a response; only the first one is valid in a request.
INVALID_PARAMETERS = [
    VALUELESS_CLIENT_BITS,
    "server_max_window_bits",
    "server_max_window_bits=7",
    "client_max_window_bits=16",
    "client_max_window_bits=010",
    'server_max_window_bits="10"',
    "server_no_context_takeover=1",
    "client_no_context_takeover=",
    "unknown",
    "unknown=1",
    *(f"{parameter}; {parameter}" for parameter in [*FLAGS, "server_max_window_bits=10"]),
    "client_max_window_bits=10; client_max_window_bits=11",
]

GARBAGE = [
    "",
    ",",
    ";",
    f"{PMD};",
    f"{PMD}; =10",
    f"{PMD} {PMD}",
    f"{PMD}; client_max_window_bits=1 0",
]

# Factory settings: every combination of flags and of no, low and high window limits.
CLIENT_SETTINGS: list[dict[str, Any]] = [
    {
        "server_no_context_takeover": server_nct,
        "client_no_context_takeover": client_nct,
        "server_max_window_bits": server_bits,
        "client_max_window_bits": client_bits,
    }
    for server_nct, client_nct in itertools.product([False, True], repeat=2)
    for server_bits in (None, 8, 11)
    for client_bits in (True, None, 9, 11)
]
SERVER_SETTINGS: list[dict[str, Any]] = [
    {
        "server_no_context_takeover": server_nct,
        "client_no_context_takeover": client_nct,
        "server_max_window_bits": server_bits,
        "client_max_window_bits": client_bits,
        "require_client_max_window_bits": require,
    }
    for server_nct, client_nct in itertools.product([False, True], repeat=2)
    for server_bits in (None, 9, 11)
    for client_bits in (None, 8, 11)
    for require in (False, True)
    if client_bits is not None or not require
]


def _extensions(*offers: Sequence[str]) -> str:
    """Build a header value with one permessage-deflate item per list of parameters."""
    return ", ".join("; ".join([PMD, *parameters]) for parameters in offers)


def _offers() -> Iterator[list[str]]:
    """Yield lists of ``Sec-WebSocket-Extensions`` request header values."""
    yield []
    yield [PMD]
    for count in (1, 2):
        for combination in itertools.combinations(
            [*VALID_PARAMETERS, VALUELESS_CLIENT_BITS], count
        ):
            yield [_extensions(combination)]
    for count in range(len(FLAGS) + 1):
        for flags, bits in itertools.product(itertools.combinations(FLAGS, count), WINDOW_BITS):
            windows = [f"server_max_window_bits={bits}", f"client_max_window_bits={bits}"]
            yield [_extensions([*flags, *windows])]
    # Offers may omit the value of client_max_window_bits; servers can't use 8 bits.
    refused = [parameter for parameter in INVALID_PARAMETERS if parameter != VALUELESS_CLIENT_BITS]
    for parameter in [*refused, "server_max_window_bits=8"]:
        yield [_extensions([parameter])]
        yield [_extensions([parameter], [VALUELESS_CLIENT_BITS])]
        yield [_extensions([parameter]), _extensions(["server_max_window_bits=10"])]
    yield [f"x-webkit-deflate-frame, {PMD}; {VALUELESS_CLIENT_BITS}"]
    yield ["x-webkit-deflate-frame"]
    yield [_extensions([FLAGS[0]], [FLAGS[1]])]
    for garbage in GARBAGE:
        yield [garbage]
        yield [PMD, garbage]


def _answers() -> Iterator[list[str]]:
    """Yield lists of ``Sec-WebSocket-Extensions`` response header values."""
    yield []
    yield [PMD]
    for count in (1, 2):
        for combination in itertools.combinations(VALID_PARAMETERS, count):
            yield [_extensions(combination)]
    for parameter in INVALID_PARAMETERS:
        yield [_extensions([parameter])]
    yield [PMD, PMD]
    yield [_extensions([], [FLAGS[0]])]
    yield ["x-webkit-deflate-frame"]
    yield [f"{PMD}, x-webkit-deflate-frame"]
    for garbage in GARBAGE:
        yield [garbage]


OFFERS = list(_offers())
ANSWERS = list(_answers())


def _headers(values: Sequence[str], headers_class: Any = Headers) -> Any:
    headers = headers_class()
    for value in values:
        headers["Sec-WebSocket-Extensions"] = value
    return headers


def _codec(extension: Any) -> Any:
    """Reduce a negotiated extension, from either library, to comparable data."""
    return (extension.name, repr(extension), extension.compress_settings)


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("returned", call())
    except Exception as exc:
        return plain(exc)


def _reference_server(values: Sequence[str], factories: Any) -> Any:
    header, accepted = ServerProtocol(extensions=factories).process_extensions(_headers(values))
    return header, [_codec(extension) for extension in accepted]


def _compat_server(values: Sequence[str], factories: Any) -> Any:
    header, accepted = negotiate_extensions(_headers(values, CompatHeaders), factories)
    return header, [_codec(extension) for extension in accepted]


def _reference_client(values: Sequence[str], factories: Any) -> Any:
    protocol = ClientProtocol(parse_uri("ws://127.0.0.1/"), extensions=factories)
    return [_codec(extension) for extension in protocol.process_extensions(_headers(values))]


def _compat_client(values: Sequence[str], factories: Any) -> Any:
    accepted = accept_extensions(_headers(values, CompatHeaders), factories)
    return [_codec(extension) for extension in accepted]


def _same_server(values: Sequence[str], actual: Any, expected: Any) -> None:
    """compat's server with ``actual`` factories answers like websockets' with ``expected``."""
    assert _outcome(lambda: _compat_server(values, actual)) == _outcome(
        lambda: _reference_server(values, expected)
    ), values


def _same_client(values: Sequence[str], actual: Any, expected: Any) -> None:
    """compat's client with ``actual`` factories accepts like websockets' with ``expected``."""
    assert _outcome(lambda: _compat_client(values, actual)) == _outcome(
        lambda: _reference_client(values, expected)
    ), values


@pytest.mark.parametrize("compression", ["deflate", None])
@pytest.mark.parametrize("values", OFFERS, ids=repr)
def test_default_server(values: list[str], compression: str | None) -> None:
    """The server answers each offer like websockets' default server, errors included."""
    expected = reference.enable_server_permessage_deflate(None) if compression else None
    actual = subject.enable_server_permessage_deflate(None) if compression else None
    _same_server(values, actual, expected)


@pytest.mark.parametrize("offered", [True, False])
@pytest.mark.parametrize("values", ANSWERS, ids=repr)
def test_default_client(values: list[str], offered: bool) -> None:
    """The client accepts or rejects each answer like websockets' default client."""
    expected = reference.enable_client_permessage_deflate(None) if offered else None
    actual = subject.enable_client_permessage_deflate(None) if offered else None
    _same_client(values, actual, expected)


@pytest.mark.parametrize("settings", SERVER_SETTINGS, ids=repr)
def test_server_factory(settings: dict[str, Any]) -> None:
    """A configured server factory answers every offer like websockets' with the same settings."""
    expected = [reference.ServerPerMessageDeflateFactory(**settings)]
    actual = [subject.ServerPerMessageDeflateFactory(**settings)]
    for values in OFFERS:
        _same_server(values, actual, expected)


@pytest.mark.parametrize("settings", CLIENT_SETTINGS, ids=repr)
def test_client_factory(settings: dict[str, Any]) -> None:
    """A configured client factory offers and accepts like websockets' with the same settings."""
    try:
        expected = [reference.ClientPerMessageDeflateFactory(**settings)]
    except ValueError as exc:
        with pytest.raises(ValueError, match=f"^{exc}$"):
            subject.ClientPerMessageDeflateFactory(**settings)
        return
    actual = [subject.ClientPerMessageDeflateFactory(**settings)]
    assert offer_extensions(actual) == ClientProtocol(
        parse_uri("ws://127.0.0.1/"), extensions=expected
    ).connect().headers.get("Sec-WebSocket-Extensions")
    for values in ANSWERS:
        _same_client(values, actual, expected)


def test_websockets_client_factories() -> None:
    """
    compat negotiates with websockets' own client factories as websockets does, refusals
    raising websockets' NegotiationError included, and compresses with its own codec.
    """
    for settings in CLIENT_SETTINGS:
        factories = [reference.ClientPerMessageDeflateFactory(**settings)]
        for values in ANSWERS:
            _same_client(values, factories, factories)
            try:
                # websockets' factories, deliberately, where compat's are expected.
                compat_factories = cast("list[ClientExtensionFactory]", factories)
                accepted = accept_extensions(_headers(values, CompatHeaders), compat_factories)
            except Exception:
                continue
            assert all(type(extension) is PerMessageDeflate for extension in accepted)


def test_websockets_server_factories() -> None:
    """compat answers offers with websockets' own server factories as websockets does."""
    for settings in SERVER_SETTINGS:
        factories = [reference.ServerPerMessageDeflateFactory(**settings)]
        for values in OFFERS:
            _same_server(values, factories, factories)


@pytest.mark.parametrize(
    "settings",
    [
        {"server_max_window_bits": 7},
        {"server_max_window_bits": 16},
        {"client_max_window_bits": 8},
        {"client_max_window_bits": 1},
        {"client_max_window_bits": 16},
        {"compress_settings": {"wbits": 10}},
    ],
    ids=repr,
)
def test_client_factory_settings(settings: dict[str, Any]) -> None:
    """Invalid client settings fail when the factory is created, as in websockets."""
    expected = _outcome(lambda: reference.ClientPerMessageDeflateFactory(**settings))
    assert expected[0] == "raised"
    assert _outcome(lambda: subject.ClientPerMessageDeflateFactory(**settings)) == expected


@pytest.mark.parametrize(
    "settings",
    [
        {"server_max_window_bits": 8},
        {"server_max_window_bits": 16},
        {"client_max_window_bits": 7},
        {"client_max_window_bits": 16},
        {"compress_settings": {"wbits": 10}},
        {"require_client_max_window_bits": True},
    ],
    ids=repr,
)
def test_server_factory_settings(settings: dict[str, Any]) -> None:
    """Invalid server settings fail when the factory is created, as in websockets."""
    expected = _outcome(lambda: reference.ServerPerMessageDeflateFactory(**settings))
    assert expected[0] == "raised"
    assert _outcome(lambda: subject.ServerPerMessageDeflateFactory(**settings)) == expected


class CustomFactory(ClientExtensionFactory):
    """A client factory for another extension."""

    name = ExtensionName("x-custom")

    def get_request_params(self) -> list[ExtensionParameter]:
        return [("level", "1")]


def test_enable_keeps_configured_factory() -> None:
    """compression="deflate" adds the default factory last, unless one is configured already."""
    configured = subject.ClientPerMessageDeflateFactory(server_max_window_bits=10)
    assert subject.enable_client_permessage_deflate([configured]) == [configured]
    server = subject.ServerPerMessageDeflateFactory()
    assert subject.enable_server_permessage_deflate((server,)) == (server,)
    enabled = subject.enable_client_permessage_deflate([CustomFactory()])
    # compat's factory given to websockets, websockets' factories given to compat: deliberately.
    custom = cast(ReferenceClientExtensionFactory, CustomFactory())
    expected = cast(
        "Sequence[ClientExtensionFactory]", reference.enable_client_permessage_deflate([custom])
    )
    assert offer_extensions(enabled) == offer_extensions(expected)
    assert offer_extensions(enabled) == f"x-custom; level=1, {PMD}; {VALUELESS_CLIENT_BITS}"


@pytest.mark.parametrize("compression", ["deflate", None])
def test_client_offer(compression: str | None) -> None:
    """The client offers what websockets' default client offers."""
    request = ClientProtocol(
        parse_uri("ws://127.0.0.1/"),
        extensions=reference.enable_client_permessage_deflate(None) if compression else None,
    ).connect()
    offered = subject.enable_client_permessage_deflate(None) if compression else None
    assert offer_extensions(offered) == request.headers.get("Sec-WebSocket-Extensions")


async def unused(connection: Any) -> None:
    """The handler of a server refused before it starts."""


@pytest.mark.parametrize(
    ("reference_call", "subject_call"),
    [
        (
            lambda: websockets_connect("ws://127.0.0.1/", compression="gzip"),
            lambda: connect("ws://127.0.0.1/", compression="gzip"),
        ),
        (
            lambda: websockets_serve(unused, compression="gzip"),
            lambda: serve(unused, compression="gzip"),
        ),
    ],
)
def test_unsupported_compression(reference_call: Any, subject_call: Any) -> None:
    """Unknown compression settings are rejected with websockets' error."""
    assert _outcome(subject_call) == _outcome(reference_call)


# Codec interoperability.

Message = list[bytes]  # the payloads of a message's frames
Wire = list[tuple[bytes, bool]]  # the payload and RSV1 bit of each frame

# Compressible data: different messages share substrings, so context takeover matters.
TEXT = b"".join(b"%d: the quick brown fox jumps over the lazy dog\n" % n for n in range(30_000))

MESSAGES: list[Message] = [
    [b""],
    [TEXT[:100]],
    [TEXT[:100]],
    [TEXT[100:200], TEXT[200:300], TEXT[300:400]],
    [b"", TEXT[:5000], b"", b""],
    [os.urandom(3000)],
    [TEXT[: 2**20]],
    [TEXT[:2047], TEXT[:2048]],
    [b""],
]

# remote_no_context_takeover, local_no_context_takeover, remote_max_window_bits,
# local_max_window_bits; websockets can't compress with 8 bits.
PARAMETERS = [
    (remote_nct, local_nct, remote_bits, local_bits)
    for remote_nct, local_nct in itertools.product([False, True], repeat=2)
    for remote_bits, local_bits in [(15, 15), (12, 12), (9, 10), (14, 9)]
]


def _mirror(parameters: tuple[bool, bool, int, int]) -> tuple[bool, bool, int, int]:
    """Return the parameters of the peer."""
    remote_nct, local_nct, remote_bits, local_bits = parameters
    return local_nct, remote_nct, local_bits, remote_bits


def _reference_encode(extension: reference.PerMessageDeflate, message: Message) -> Wire:
    frames = [
        extension.encode(
            Frame(Opcode.CONT if index else Opcode.BINARY, data, index == len(message) - 1)
        )
        for index, data in enumerate(message)
    ]
    return [(bytes(frame.data), frame.rsv1) for frame in frames]


def _compat_encode(codec: PerMessageDeflate, message: Message) -> Wire:
    """Encode through the extension interface, as a connection with other extensions does."""
    encoded = [
        codec.encode(
            CompatFrame(
                CompatOpcode.CONT if index else CompatOpcode.BINARY,
                data,
                index == len(message) - 1,
            )
        )
        for index, data in enumerate(message)
    ]
    return [(bytes(frame.data), frame.rsv1) for frame in encoded]


def _compat_encode_frames(codec: PerMessageDeflate, message: Message) -> Wire:
    """Encode as a connection with permessage-deflate alone does."""
    return [
        (codec.encode_frame(data, fin=index == len(message) - 1), index == 0)
        for index, data in enumerate(message)
    ]


FrameDecoder = Callable[[bytes, bool, bool, int | None], bytes]


def _receive(
    wire: Wire, max_size: int | None, too_big: type[Exception], decode: FrameDecoder
) -> Message:
    """
    Feed a message's frames to ``decode(data, rsv1, fin, current_size)`` after checking their
    length against what is left of ``max_size``, as a connection does before decompressing.
    """
    message: Message = []
    current_size = None
    for index, (data, rsv1) in enumerate(wire):
        limit = None if max_size is None else max_size - (current_size or 0)
        if limit is not None and len(data) > limit:
            raise too_big(len(data), limit, current_size)
        fin = index == len(wire) - 1
        message.append(decode(data, rsv1, fin, current_size))
        current_size = None if fin else (current_size or 0) + len(message[-1])
    return message


def _reference_decode(
    extension: reference.PerMessageDeflate, wire: Wire, max_size: int | None = None
) -> Message:
    """Decode like websockets' protocol: the limit passed applies to the rest of the message."""

    def decode(data: bytes, rsv1: bool, fin: bool, current_size: int | None) -> bytes:
        opcode = Opcode.BINARY if current_size is None else Opcode.CONT
        limit = None if max_size is None else max_size - (current_size or 0)
        try:
            return bytes(extension.decode(Frame(opcode, data, fin, rsv1), max_size=limit).data)
        except WebSocketsPayloadTooBig as exc:
            exc.set_current_size(current_size)
            raise

    return _receive(wire, max_size, WebSocketsPayloadTooBig, decode)


def _compat_decode(codec: PerMessageDeflate, wire: Wire, max_size: int | None = None) -> Message:
    """Decode through the extension interface, as a connection with other extensions does."""

    def decode(data: bytes, rsv1: bool, fin: bool, current_size: int | None) -> bytes:
        opcode = CompatOpcode.BINARY if current_size is None else CompatOpcode.CONT
        limit = None if max_size is None else max_size - (current_size or 0)
        try:
            frame = codec.decode(CompatFrame(opcode, data, fin, rsv1), max_size=limit)
        except PayloadTooBig as exc:
            exc.set_current_size(current_size)
            raise
        return bytes(frame.data)

    return _receive(wire, max_size, PayloadTooBig, decode)


def _compat_decode_frames(
    codec: PerMessageDeflate, wire: Wire, max_size: int | None = None
) -> Message:
    """Decode as a connection with permessage-deflate alone does: it tracks RSV1 itself."""

    def decode(data: bytes, rsv1: bool, fin: bool, current_size: int | None) -> bytes:
        if not wire[0][1]:
            return data
        limit = None if max_size is None else max_size - (current_size or 0)
        try:
            return codec.decode_frame(data, fin=fin, max_size=limit)
        except PayloadTooBig as exc:
            exc.set_current_size(current_size)
            raise

    return _receive(wire, max_size, PayloadTooBig, decode)


COMPAT_DECODERS = [_compat_decode, _compat_decode_frames]


@pytest.mark.parametrize("parameters", PARAMETERS, ids=repr)
def test_compat_to_websockets(parameters: tuple[bool, bool, int, int]) -> None:
    """websockets decodes what compat encodes, which is byte for byte what websockets sends."""
    codec = PerMessageDeflate(*parameters, compress_settings={"memLevel": 5})
    fast = PerMessageDeflate(*parameters, compress_settings={"memLevel": 5})
    same = reference.PerMessageDeflate(*parameters, compress_settings={"memLevel": 5})
    peer = reference.PerMessageDeflate(*_mirror(parameters))
    for message in MESSAGES:
        wire = _compat_encode(codec, message)
        assert wire == _reference_encode(same, message)
        assert wire == _compat_encode_frames(fast, message)
        assert _reference_decode(peer, wire) == message


@pytest.mark.parametrize("decoder", COMPAT_DECODERS)
@pytest.mark.parametrize("parameters", PARAMETERS, ids=repr)
def test_websockets_to_compat(parameters: tuple[bool, bool, int, int], decoder: Any) -> None:
    """compat decodes what websockets encodes, message after message."""
    codec = PerMessageDeflate(*parameters)
    peer = reference.PerMessageDeflate(*_mirror(parameters))
    for message in MESSAGES:
        assert decoder(codec, _reference_encode(peer, message)) == message


@pytest.mark.parametrize(
    "frame",
    [
        CompatFrame(CompatOpcode.BINARY, memoryview(b"\x00\xff")),
        CompatFrame(CompatOpcode.PING, b"\x00", rsv1=True),
        CompatFrame(CompatOpcode.CONT, b"\x00\xff", rsv1=True),
    ],
    ids=repr,
)
def test_frames_passing_through(frame: CompatFrame) -> None:
    """Uncompressed messages and control frames are returned as received."""
    codec = PerMessageDeflate(False, False, 15, 15)
    assert codec.decode(frame, max_size=1) is frame
    assert codec.encode(CompatFrame(CompatOpcode.PONG, b"\x00")).data == b"\x00"


def test_rsv1_in_continuation() -> None:
    """RSV1 on a continuation frame of a compressed message is refused with websockets' error."""
    codec = PerMessageDeflate(False, False, 15, 15)
    same = reference.PerMessageDeflate(False, False, 15, 15)
    wire = _reference_encode(reference.PerMessageDeflate(False, False, 15, 15), [b"a", b"b"])

    def decode(extension: Any, frame_class: Any, opcodes: Any) -> Any:
        first = extension.decode(frame_class(opcodes.TEXT, wire[0][0], False, True))
        return bytes(first.data), _outcome(
            lambda: extension.decode(frame_class(opcodes.CONT, wire[1][0], True, True))
        )

    assert decode(codec, CompatFrame, CompatOpcode) == decode(same, Frame, Opcode)


# Size limits and invalid data.

SMALL, LARGE = TEXT[:1000], os.urandom(3000).hex().encode()  # compressed below / above 2 KiB


@pytest.mark.parametrize(
    ("message", "slack"),
    [
        (message, slack)
        for message in [[SMALL], [LARGE], [SMALL, SMALL], [LARGE, b"", SMALL], [SMALL, b""]]
        for slack in (-1000, -1, 0, 1)
    ],
    ids=lambda value: str([len(data) for data in value] if isinstance(value, list) else value),
)
def test_max_size(message: Message, slack: int) -> None:
    """Messages around the limit are accepted or rejected like websockets, with its wording."""
    max_size = len(b"".join(message)) + slack
    wire = _reference_encode(reference.PerMessageDeflate(False, False, 15, 15), message)

    def decode(extension: Any, decoder: Callable[[Any, Wire, int], Message]) -> Any:
        def run() -> Any:
            return decoder(extension, wire, max_size)

        result = _outcome(run)
        return result[:2] + result[3:] if result[0] == "raised" else result  # drop args

    expected = decode(reference.PerMessageDeflate(False, False, 15, 15), _reference_decode)
    for compat_decoder in COMPAT_DECODERS:
        assert decode(PerMessageDeflate(False, False, 15, 15), compat_decoder) == expected


@pytest.mark.parametrize("data", [b"\xff\xff\xff\xff", b"\x07", TEXT[:3000]], ids=repr)
def test_corrupt_data(data: bytes) -> None:
    """Invalid deflate data is a protocol error."""
    codec = PerMessageDeflate(False, False, 15, 15)
    with pytest.raises(ProtocolError, match=r"^decompression failed$"):
        codec.decode_frame(data, fin=True, max_size=None)


@pytest.mark.parametrize("frame_size", [2**20, 2**10, 100], ids=lambda size: f"{size}B")
def test_deflate_bomb(frame_size: int) -> None:
    """10 MiB of zeros in ~10 KiB don't make the decoder hold much more than the limit."""
    max_size = 2**20
    compressor = zlib.compressobj(wbits=-15)
    bomb = compressor.compress(bytes(10 * 2**20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert len(bomb) < 20 * 2**10
    frames = [bomb[start : start + frame_size] for start in range(0, len(bomb), frame_size)]
    codec = PerMessageDeflate(False, False, 15, 15)
    received = 0
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooBig) as raised:
            for index, data in enumerate(frames):
                fin = index == len(frames) - 1
                budget = max_size - received
                received += len(codec.decode_frame(data, fin=fin, max_size=budget))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received <= max_size
    assert raised.value.max_size == max_size - received
    assert peak < 2 * max_size + 2**18
