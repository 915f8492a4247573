"""compat.frames matches websockets.frames: codes, opcodes, Close parsing and str(), Frame str()."""

from __future__ import annotations

import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.differential import check, modules

REFERENCE, SUBJECT = modules("frames")

CONSTANTS = [
    "OK_CLOSE_CODES",
    "EXTERNAL_CLOSE_CODES",
    "CLOSE_CODE_EXPLANATIONS",
    "DATA_OPCODES",
    "CTRL_OPCODES",
]


@pytest.mark.parametrize("name", ["Opcode", "CloseCode"])
def test_same_enum_members(name: str) -> None:
    check("frames", lambda m: [(member.name, member.value) for member in getattr(m, name)])


@pytest.mark.parametrize("name", CONSTANTS)
def test_same_constants(name: str) -> None:
    check("frames", lambda m: getattr(m, name))


CODES = [0, 999, 1000, 1001, 1004, 1005, 1006, 1011, 1014, 1015, 1016, 2999, 3000, 4999, 5000]

PAYLOADS = [
    b"",
    b"\x03",
    b"\x03\xe8",
    b"\x03\xe8bye",
    b"\x03\xe9caf\xc3\xa9",
    b"\x03\xe8\xff",
    b"\x03\xe8caf\xc3",
    b"\x03\xed",
    b"\x0b\xb8registered",
    b"\x0f\xa0",
    b"\x13\x88",
    b"\x00\x00",
]


@pytest.mark.parametrize("data", PAYLOADS)
def test_close_parse(data: bytes) -> None:
    check("frames", lambda m: m.Close.parse(data))


@given(st.binary(max_size=8))
@settings(max_examples=200)
def test_close_parse_any_payload(data: bytes) -> None:
    check("frames", lambda m: m.Close.parse(data))


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("reason", ["", "bye", "café"])
def test_close_str_serialize_and_check(code: int, reason: str) -> None:
    def use(m: types.ModuleType) -> Any:
        close = m.Close(code, reason)
        return str(close), close.serialize()

    check("frames", use)


def frame(m: types.ModuleType, opcode: int, data: bytes, **bits: bool) -> Any:
    return m.Frame(m.Opcode(opcode), data, **bits)


TEXT = "café ☕ ".encode()
EMOJI = "😀 ok 😀".encode()
FRAMES: list[tuple[int, bytes, dict[str, bool]]] = [
    (opcode, data, {"fin": fin})
    for opcode in (0x0, 0x1, 0x2, 0x8, 0x9, 0xA)
    for data in (
        b"",
        b"x",
        b"hello",
        b"\x03\xe8bye",
        b"\x03\xe8\xff",
        b"\x00\x01\x02\xff",
        TEXT,
        TEXT[1:-1],
        EMOJI[1:-1],
        EMOJI[2:-2],
        TEXT * 40,
        b"\xff" * 400,
        TEXT[:-1] * 50,
        bytes(range(256)),
    )
    for fin in (True, False)
]


@pytest.mark.parametrize(("opcode", "data", "bits"), FRAMES)
def test_frame_str(opcode: int, data: bytes, bits: dict[str, bool]) -> None:
    check("frames", lambda m: str(frame(m, opcode, data, **bits)))


@given(
    st.sampled_from([0x0, 0x1, 0x2, 0x8, 0x9, 0xA]),
    st.one_of(st.binary(max_size=400), st.text(max_size=200).map(str.encode)),
    st.integers(0, 3),
    st.integers(0, 3),
    st.booleans(),
)
@settings(max_examples=300)
def test_frame_str_any(opcode: int, data: bytes, head: int, tail: int, fin: bool) -> None:
    data = data[head : len(data) - tail]
    check("frames", lambda m: str(frame(m, opcode, data, fin=fin)))


@pytest.mark.parametrize(
    ("opcode", "data", "bits"),
    [
        (0x1, b"x", {}),
        (0x1, b"x", {"rsv1": True}),
        (0x2, b"x", {"rsv2": True}),
        (0x0, b"x", {"rsv3": True}),
        (0x9, b"x" * 125, {}),
        (0x9, b"x" * 126, {}),
        (0xA, b"", {"fin": False}),
        (0x8, b"\x03\xe8", {}),
        (0x1, b"x" * 1000, {"fin": False}),
    ],
)
def test_frame_check(opcode: int, data: bytes, bits: dict[str, bool]) -> None:
    check("frames", lambda m: frame(m, opcode, data, **bits).check())
