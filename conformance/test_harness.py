"""Self-tests of the harness: trace comparison, frame codec, target registry."""

from __future__ import annotations

import enum
import struct

import pytest

from . import raw, trace
from .targets import registry


def test_compare_reports_paths() -> None:
    reference = {"outcome": {"exception": "ConnectionClosedOK"}, "messages": [1, 2]}
    actual = {"outcome": {"exception": "ConnectionClosedError"}, "messages": [1], "extra": True}
    assert trace.compare(reference, actual) == [
        "$.outcome.exception: 'ConnectionClosedOK' != 'ConnectionClosedError'",
        "$.messages: length 2 != 1",
        "$.extra: unexpected True",
    ]
    assert trace.compare(reference, reference) == []


def test_compare_distinguishes_types() -> None:
    assert trace.compare(1, True) == ["$: 1 != True"]
    assert trace.compare({"a": 1}, {}) == ["$.a: missing (reference 1)"]


def test_render_includes_unified_diff() -> None:
    text = trace.render({"a": 1}, {"a": 2}, ("left", "right"))
    assert "$.a: 1 != 2" in text
    assert "--- left" in text and "+++ right" in text


def test_data_normalises_values() -> None:
    class Code(enum.IntEnum):
        OK = 1000

    class Color(enum.Enum):
        RED = 1

    assert trace.data((1, b"x", Code.OK, Color.RED)) == [1, "b'x'", 1000, "RED"]
    assert trace.message("a") == ["str", "a"]
    assert trace.message(b"a") == ["bytes", "b'a'"]
    with pytest.raises(TypeError):
        trace.data(object())


async def test_outcome_captures_exceptions() -> None:
    async def fail() -> None:
        raise ValueError("bad")

    async def succeed() -> str:
        return "ok"

    assert await trace.outcome(fail()) == {"exception": "ValueError", "str": "bad"}
    assert await trace.outcome(succeed()) == {"result": ["str", "ok"]}


@pytest.mark.parametrize("length", [0, 5, 125, 126, 65535, 65536])
@pytest.mark.parametrize("mask", [None, b"\x01\x02\x03\x04"])
def test_frame_round_trip(length: int, mask: bytes | None) -> None:
    payload = bytes(index % 251 for index in range(length))
    encoded = raw.encode_frame(raw.OP_BINARY, payload, fin=False, rsv2=True, mask=mask)
    reader = raw.FrameReader()
    # Feed byte by byte at the start to exercise partial headers.
    frames = [*reader.feed(encoded[:1]), *reader.feed(encoded[1:3]), *reader.feed(encoded[3:])]
    assert frames == [
        raw.Frame(raw.OP_BINARY, payload, fin=False, rsv2=True, masked=mask is not None)
    ]
    assert reader.buffer == bytearray()


def test_close_payload_parsing() -> None:
    frame = raw.Frame(raw.OP_CLOSE, raw.close_payload(4001, "bye"))
    assert frame.close() == (4001, b"bye")
    assert raw.Frame(raw.OP_CLOSE, b"").close() == (None, b"")
    assert frame.trace()["code"] == 4001
    assert raw.close_payload() == b""
    assert raw.encode_frame(raw.OP_TEXT, b"", length_override=300)[1:4] == b"\x7e" + struct.pack(
        "!H", 300
    )


def test_accept_key_matches_rfc_example() -> None:
    assert raw.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_registry_roles_and_restriction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_PEERS", "extra.root, picows.websockets")
    targets = registry(["other.root"])
    assert [(target.name, target.role) for target in targets] == [
        ("websockets", "reference"),
        ("compat", "subject"),
        ("picows.websockets", "peer"),
        ("other.root", "peer"),
        ("extra.root", "peer"),
    ]
    assert [target.name for target in registry(only=["compat"])] == ["websockets", "compat"]
    with pytest.raises(ValueError):
        registry(only=["nope"])


def test_unavailable_target_reports_error() -> None:
    target = registry(["conformance.no_such_root"])[-1]
    assert not target.available
    assert "no_such_root" in (target.error or "")
