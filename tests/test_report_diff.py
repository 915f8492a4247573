"""``python -m reports diff`` flags what got worse between two runs, and only that."""

from __future__ import annotations

import copy
import json
import pathlib
import subprocess
import sys
from typing import Any

from reports.diff import regressions

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run(status: str, declared: list[str] | None = None) -> dict[str, Any]:
    return {"status": status, "declared": declared or [], "runs": []}


def report() -> dict[str, Any]:
    """A small compat-report/2 document: two scenarios, an Autobahn run and a benchmark."""
    return {
        "schema": "compat-report/2",
        "scenarios": [
            {"id": "close.code", "results": {"websockets": run("baseline"),
                                             "compat": run("identical")}},
            {"id": "ping.pong", "results": {"websockets": run("baseline"),
                                            "compat": run("declared", ["picows-core.x"])}},
        ],
        "autobahn": {"runs": [{"mode": "fuzzingclient", "target": "compat", "cases": [
            {"id": "1.1.1", "behavior": "OK", "failed": False},
            {"id": "6.4.1", "behavior": "NON-STRICT", "failed": False},
        ]}]},
        "bench": {"cases": [{"case": "256 B pipelined", "loop": "asyncio", "results": {
            "websockets": {"median": 100.0, "min": 98.0, "max": 102.0, "vs_websockets": None},
            "compat": {"median": 250.0, "min": 245.0, "max": 255.0, "vs_websockets": 2.5},
        }}]},
    }


def test_identical_reports_have_no_regression() -> None:
    assert regressions(report(), report()) == []


def test_each_kind_of_regression_is_found() -> None:
    old, new = report(), report()
    new["scenarios"][0]["results"]["compat"] = run("different")
    new["scenarios"][1]["results"]["compat"] = run("declared", ["picows-core.x", "new.y"])
    new["autobahn"]["runs"][0]["cases"][0] = {"id": "1.1.1", "behavior": "OK", "failed": True}
    new["bench"]["cases"][0]["results"]["compat"].update(median=200.0, vs_websockets=2.0)
    found = [str(regression) for regression in regressions(old, new)]
    assert found == [
        "scenario: compat on close.code: identical -> different",
        "declared: compat on ping.pong: picows-core.x -> new.y",
        "autobahn: compat fuzzingclient case 1.1.1: OK -> FAILED",
        "bench: compat 256 B pipelined (asyncio): 2.50x websockets -> 2.00x websockets (noise 5%)",
    ]


def test_improvements_and_noise_are_not_regressions() -> None:
    old, new = report(), report()
    new["scenarios"][1]["results"]["compat"] = run("identical")
    new["autobahn"]["runs"][0]["cases"][1] = {"id": "6.4.1", "behavior": "OK", "failed": False}
    # 2.5 to 2.45 is within the 4% spread of the rounds.
    new["bench"]["cases"][0]["results"]["compat"]["vs_websockets"] = 2.45
    new["scenarios"].append({"id": "new.check", "results": {"compat": run("error")}})
    assert regressions(old, new) == []


def test_command_exits_non_zero_on_a_regression(tmp_path: pathlib.Path) -> None:
    old, new = report(), copy.deepcopy(report())
    new["scenarios"][0]["results"]["compat"] = run("error")
    paths = []
    for name, document in (("old.json", old), ("new.json", new)):
        path = tmp_path / name
        path.write_text(json.dumps(document))
        paths.append(str(path))
    command = [sys.executable, "-m", "reports", "diff"]
    worse = subprocess.run([*command, *paths], cwd=ROOT, capture_output=True, text=True)
    assert worse.returncode == 1
    assert "scenario: compat on close.code: identical -> error" in worse.stdout
    same = subprocess.run([*command, paths[0], paths[0]], cwd=ROOT, capture_output=True, text=True)
    assert same.returncode == 0, same.stdout + same.stderr

