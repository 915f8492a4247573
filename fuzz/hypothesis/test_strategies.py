"""The strategies themselves: split points keep the byte stream, the codec reads frames back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from conformance.raw import FrameReader

from . import strategies
from .differential import profile
from .strategies import Plan, Side


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
