"""The strategies themselves: split points, pauses and the classification of sequences."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.raw import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, Frame, FrameReader

from . import handshakes, strategies
from .differential import profile
from .handshakes import Head
from .strategies import Plan, Side, invalid_text_ends


@profile()
@given(plan=strategies.plans(), side=st.sampled_from(["client", "server"]))
def test_segments_rebuild_the_stream(plan: Plan, side: Side) -> None:
    """However the stream is cut and paused, its pieces parse back into the planned frames."""
    chunks = [chunk for segment in plan.segments(side) for chunk in segment]
    reader = FrameReader()
    parsed = [frame for chunk in chunks for frame in reader.feed(chunk)]
    assert b"".join(chunks) == plan.stream(side)
    assert [(f.opcode, f.payload, f.fin, f.rsv1, f.rsv2, f.rsv3) for f in parsed] == [
        (f.opcode, f.payload, f.fin, f.rsv1, f.rsv2, f.rsv3) for f in plan.frames
    ]
    assert [f.masked for f in parsed] == [f.masked != (side == "client") for f in plan.frames]
    assert len(plan.segments(side)) <= len(plan.pauses) + 1


CLOSE = Frame(OP_CLOSE, b"\x03\xe8")


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        ([Frame(OP_BINARY, b"a", fin=False), CLOSE], True),
        ([Frame(OP_TEXT, b"a", fin=False), Frame(OP_PING, b""), CLOSE], True),
        ([Frame(OP_BINARY, b"a", fin=False), Frame(OP_TEXT, b"b"), CLOSE], False),
        ([Frame(OP_BINARY, b"a", fin=False), Frame(0x3, b""), CLOSE], False),
        ([Frame(OP_CONT, b"a"), CLOSE], False),
        ([Frame(OP_BINARY, b"a"), CLOSE], False),
    ],
)
def test_close_inside_fragments(frames: list[Frame], expected: bool) -> None:
    """Only a close interrupting a fragmented message before any error is classified so."""
    assert Plan(tuple(frames)).close_inside_fragments() is expected


def test_pauses_follow_invalid_text() -> None:
    """A pause follows the frame completing invalid text, split code points are valid."""
    frames = [
        Frame(OP_TEXT, b"\xc3", fin=False),
        Frame(OP_CONT, b"\xa9"),
        Frame(OP_TEXT, b"\xc3", fin=False),
        Frame(OP_PING, b""),
        Frame(OP_CONT, b"("),
        CLOSE,
    ]
    assert invalid_text_ends(frames) == (4,)


@profile()
@given(head=st.one_of(handshakes.requests(), handshakes.responses()))
def test_head_repr_builds_the_head(head: Head) -> None:
    """The repr shown for a counterexample is Python that builds the same head back."""
    assert eval(repr(head), {"Head": Head}) == head
