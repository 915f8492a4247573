"""The results schema finds records whose fields were renamed, dropped or added."""

from __future__ import annotations

from typing import Any

from conformance import trace
from conformance.scenario import Property
from conformance.targets import Target
from fuzz.hypothesis.differential import Tally
from reports import schema
from reports.schema import problems


def run() -> schema.ConformanceRun:
    return {
        "client": "compat",
        "server": "websockets",
        "target": "compat",
        "status": "declared",
        "declared": "some-difference",
        "diff": ["$.a: 1 != 2"],
        "changes": [{"path": ["a"], "kind": "value", "reference": 1, "actual": 2}],
        "trace": {"a": 2},
        "reference_trace": {"a": 1},
        "seconds": 0.1,
    }


def document() -> schema.ConformanceDocument:
    return {
        "schema": schema.CONFORMANCE,
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00",
        "environment": {},
        "targets": [],
        "scenarios": [
            {
                "id": "close.normal",
                "feature": "close",
                "seed": None,
                "title": "A normal close",
                "sides": "both",
                "runs": [run()],
            }
        ],
        "summary": {},
    }


def test_a_document_built_from_the_types_conforms() -> None:
    assert problems(document(), schema.ConformanceDocument) == []


def test_renamed_fields_are_found_in_nested_records() -> None:
    data = document()
    original = data["scenarios"][0]["runs"][0]
    record: dict[str, Any] = {**original, "differences": original["diff"]}
    del record["diff"]
    record["changes"] = [{"path": ["a"], "reference": 1, "actual": 2}]
    broken = {**data, "scenarios": [{**data["scenarios"][0], "runs": [record]}]}
    assert problems(broken, schema.ConformanceDocument) == [
        "$.scenarios[0].runs[0].diff: missing",
        "$.scenarios[0].runs[0].differences: unknown",
        "$.scenarios[0].runs[0].changes[0].kind: missing",
    ]


def test_optional_fields_may_be_absent() -> None:
    missing: schema.Change = {"path": ["a"], "kind": "missing", "reference": 1}
    assert problems(missing, schema.Change) == []
    assert problems([missing], schema.Change) == ["$: not an object"]


def test_the_producers_write_records_of_the_schema() -> None:
    target = Target("compat", "compat", "subject")
    frames = Property("frames", "protocol", "Frames reach each target", ("frames.example",))
    tally = Tally(frames, target)
    tally.check("frames.example", {"a": 1}, {"a": 1}, "example")
    assert problems(tally.result(), schema.PropertyResult) == []
    assert (tally.result()["feature"], tally.result()["title"]) == (frames.feature, frames.title)
    change = trace.compare({"a": [1]}, {"a": []})[0].document()
    assert problems(change, schema.Change) == []
