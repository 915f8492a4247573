"""Self-tests of the harness: trace comparison, frame codec, target registry, watched logs."""

from __future__ import annotations

import enum
import logging
import struct

import pytest

from . import raw, runner, scenario, trace
from .scenario import LogWatch, Property, normalised, register_property
from .targets import Target, registry


def test_compare_reports_paths() -> None:
    reference = {"outcome": {"exception": "ConnectionClosedOK"}, "messages": [1, 2]}
    actual = {"outcome": {"exception": "ConnectionClosedError"}, "messages": [1], "extra": True}
    changes = trace.compare(reference, actual)
    assert changes == [
        trace.Change(
            ("outcome", "exception"), "value", "ConnectionClosedOK", "ConnectionClosedError"
        ),
        trace.Change(("messages",), "length", 2, 1),
        trace.Change(("extra",), "unexpected", actual=True),
    ]
    assert [str(change) for change in changes] == [
        "$.outcome.exception: 'ConnectionClosedOK' != 'ConnectionClosedError'",
        "$.messages: length 2 != 1",
        "$.extra: unexpected True",
    ]
    assert [change.document() for change in changes] == [
        {
            "path": ["outcome", "exception"],
            "kind": "value",
            "reference": "ConnectionClosedOK",
            "actual": "ConnectionClosedError",
        },
        {"path": ["messages"], "kind": "length", "reference": 2, "actual": 1},
        {"path": ["extra"], "kind": "unexpected", "actual": True},
    ]
    assert trace.compare(reference, reference) == []


def test_change_paths_read_as_declarations_write_them() -> None:
    change = trace.compare({"recv": [{"sent": {"code": 1}}]}, {"recv": [{"sent": {"code": 2}}]})
    assert [(item.where, item.pattern) for item in change] == [
        ("$.recv[0].sent.code", "$.recv[*].sent.code")
    ]


def test_compare_distinguishes_types() -> None:
    assert [str(change) for change in trace.compare(1, True)] == ["$: 1 != True"]
    missing = trace.compare({"a": 1}, {})
    assert [str(change) for change in missing] == ["$.a: missing (reference 1)"]
    assert missing[0].document() == {"path": ["a"], "kind": "missing", "reference": 1}


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


def test_log_messages_are_normalised() -> None:
    assert normalised("> Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==") == (
        "> Sec-WebSocket-Key: VALUE"
    )
    assert normalised("< Date: Thu, 26 Nov 2026 14:10:55 GMT") == "< Date: DATE"
    assert normalised("> User-Agent: Python/3.11 websockets/17.4") == "> User-Agent: DEFAULT"
    assert normalised("> User-Agent: debugging/1.0") == "> User-Agent: debugging/1.0"
    assert normalised("> PING 8d 0e 19 5a [binary, 4 bytes]") == "> PING [4 bytes]"
    assert normalised("< PONG 'hi' [text, 2 bytes]") == "< PONG 'hi' [text, 2 bytes]"
    assert normalised("< Host: 127.0.0.1:8765") == "< Host: ADDRESS"


def test_log_watch_lists_each_connection_with_its_request_grouped() -> None:
    first, second = object(), object()
    watch = LogWatch()
    for message, websocket in [
        ("server listening", None),
        ("< GET / HTTP/1.1", first),
        ("< Upgrade: websocket", first),
        ("< Host: example.com", first),
        ("= connection is CONNECTING", None),
        ("< GET /other HTTP/1.1", second),
        ("> HTTP/1.1 101 Switching Protocols", first),
        ("> Upgrade: websocket", first),
    ]:
        fields: dict[str, object] = {
            "name": "websockets.server",
            "levelname": "DEBUG",
            "msg": message,
        }
        if websocket is not None:
            fields["websocket"] = websocket
        watch.emit(logging.makeLogRecord(fields))
    log = watch.trace("websockets.server")
    assert [entry["message"] for entry in log["server"]] == [
        "server listening",
        "= connection is CONNECTING",
    ]
    assert [entry.get("message", entry.get("order")) for entry in log["connections"]] == [
        "< GET / HTTP/1.1",
        ["< Upgrade", "< Host"],
        "> HTTP/1.1 101 Switching Protocols",
        "> Upgrade: websocket",
        "< GET /other HTTP/1.1",
        [],
    ]
    assert log["connections"][1]["headers"] == ["< Host: example.com", "< Upgrade: websocket"]


def test_seed_features_run_on_uvloop_too() -> None:
    """Scenarios proving a seed feature have a uvloop variant; the catalogue covers both."""
    pytest.importorskip("uvloop")
    from . import scenarios
    from .catalogue import ON_UVLOOP, load

    scenarios.load_all()
    ids = {case.id for case in scenarios.registered()}
    assert {"proxy.https-tunnel" + ON_UVLOOP, "router.path.root" + ON_UVLOOP} <= ids
    assert "close.peer-1000.to-client" in ids
    assert "close.peer-1000.to-client" + ON_UVLOOP not in ids
    declaration = next(d for d in load().differences if d.id == "tls-refusal-body")
    changes = trace.compare(
        {"outcome": {"response": {"body": {"length": 100000}}}},
        {"outcome": {"response": {"body": {"length": 3534}}}},
    )
    for case in ("proxy.https-refusal-body", "proxy.https-refusal-body" + ON_UVLOOP):
        assert declaration.applies("compat", case, "proxy-tls", changes)


def test_a_requirement_fails_the_subject_even_where_traces_match() -> None:
    def nothing_logged(outcome: object) -> list[str]:
        return ["logged a secret"]

    subject = Target("compat", "compat", "subject")
    verdict = runner.judge("any", subject, {"a": 1}, {"a": 1}, require=nothing_logged)
    assert (verdict.status, verdict.fails) == ("different", True)
    assert verdict.diff() == ["requires: logged a secret"]
    peer = Target("peer", "peer", "peer")
    assert not runner.judge("any", peer, {"a": 1}, {"a": 1}, require=nothing_logged).fails
    assert runner.judge("any", subject, {"a": 1}, {"a": 1}).status == "identical"


def test_a_property_registers_the_ids_of_its_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A property's entry holds its scenario ids and those of its kinds; registering the same
    entry again (a module imported twice) is harmless, another one under its id is refused."""
    monkeypatch.setattr(scenario, "PROPERTIES", {})

    def frames() -> None:
        """Frames reach each target.

        More text.
        """

    register_property("frames", "protocol", ["p.generated.to-server"], ["odd"])(frames)
    register_property("frames", "protocol", ["p.generated.to-server"], ["odd"])(frames)
    assert list(scenario.PROPERTIES.values()) == [
        Property(
            "frames",
            "protocol",
            "Frames reach each target.",
            ("p.generated.to-server", "p.odd.generated.to-server"),
        )
    ]
    assert scenario.judged_ids()[-2:] == ["p.generated.to-server", "p.odd.generated.to-server"]
    with pytest.raises(ValueError, match="duplicate property id: frames"):
        register_property("frames", "send")(frames)


def test_a_property_judges_examples_under_its_registered_ids_only() -> None:
    from fuzz.hypothesis.differential import Tally

    check = Property("frames", "protocol", "Frames reach each target.", ("p.generated",))
    tally = Tally(check, Target("compat", "compat", "subject"))
    tally.check("p.generated", {"a": 1}, {"a": 1}, "example")
    with pytest.raises(ValueError, match=r"p\.other is not a scenario id of property frames"):
        tally.check("p.other", {"a": 1}, {"a": 1}, "example")
    assert tally.examples == 1
