"""``python -m conformance --target ROOT`` runs the harness with ROOT as the subject.

The target is ``tests/tinytarget``: websockets' API re-exported, except that its client's
``close()`` sends the reason in capitals. The command runs in a subprocess on a few scenarios
selected with ``-k``, writing into a temporary folder.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from conformance import cli
from conformance.catalogue import load
from conformance.paths import RESULTS_ENV
from conformance.surface import check_all, declarations
from conformance.targets import SUBJECT, registry
from reports import schema
from reports.schema import problems

ROOT = pathlib.Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
TINY = "tinytarget"
TIMEOUT = 600.0


def harness(out: pathlib.Path, *args: str, select: str) -> subprocess.CompletedProcess[str]:
    """Run the command on the tiny target and the scenarios ``select`` matches, with ``tests``
    importable, writing into ``out``."""
    env = {key: value for key, value in os.environ.items() if key != RESULTS_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "conformance", "--target", TINY, "--out", str(out), *args,
        "--", "-k", select, "-p", "no:cacheprovider",
    ]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def read(path: pathlib.Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_identical_runs_pass_and_name_the_subject(tmp_path: pathlib.Path) -> None:
    # A previous run's benchmark must not reach this run's report.
    stale = tmp_path / "results" / "bench.json"
    stale.parent.mkdir(parents=True)
    stale.write_text('{"schema": "compat-bench/1", "cases": []}')

    result = harness(tmp_path, select="close.client-closes-1000")

    assert result.returncode == 0, result.stdout + result.stderr
    results = read(tmp_path / "results" / "conformance.json")
    assert problems(results, schema.ConformanceDocument) == []
    assert [(t["name"], t["role"]) for t in results["targets"]] == [
        ("websockets", "reference"),
        (TINY, "subject"),
    ]
    assert results["summary"] == {
        TINY: {"identical": 3, "declared": 0, "different": 0, "error": 0}
    }
    report = read(tmp_path / "compatibility.json")
    assert report["subject"] == TINY
    assert [(h["target"], h["role"], h["ok"]) for h in report["headline"]] == [
        (TINY, "subject", True)
    ]
    assert report["bench"] is None and not stale.exists()
    assert f"subject <code>{TINY}</code>" in (tmp_path / "compatibility.html").read_text()
    assert f"{TINY} (subject), runs: 3 identical to websockets" in result.stdout


def test_an_undeclared_difference_fails(tmp_path: pathlib.Path) -> None:
    result = harness(tmp_path, "--peer", SUBJECT, select="close.client-closes-4001")

    assert result.returncode == 1, result.stdout + result.stderr
    results = read(tmp_path / "results" / "conformance.json")
    assert [(t["name"], t["role"]) for t in results["targets"]] == [
        ("websockets", "reference"),
        (TINY, "subject"),
        (SUBJECT, "peer"),
    ]
    # The server closes with what it received, so only runs with the tiny client differ.
    assert results["summary"][TINY] == {"identical": 1, "declared": 0, "different": 2, "error": 0}
    runs = results["scenarios"][0]["runs"]
    differing = [(run["client"], run["server"]) for run in runs if run["status"] == "different"]
    assert differing == [(TINY, TINY), (TINY, "websockets")]
    assert "$.client.reason: 'bye' != 'BYE'" in runs[1]["diff"]
    assert {
        "path": ["client", "reason"], "kind": "value", "reference": "bye", "actual": "BYE"
    } in runs[1]["changes"]
    assert problems(results, schema.ConformanceDocument) == []
    report = read(tmp_path / "compatibility.json")
    assert report["subject"] == TINY
    headline = {h["target"]: h for h in report["headline"]}
    assert headline[TINY]["ok"] is False and headline[SUBJECT]["ok"] is True
    assert "conformance step: failed (exit status 1)" in result.stdout
    assert "2 with undeclared differences" in result.stdout


def test_a_subject_that_does_not_import_is_a_usage_error(tmp_path: pathlib.Path) -> None:
    assert cli.main(["--target", "tinytarget.missing", "--out", str(tmp_path)]) == 2
    assert not any(tmp_path.iterdir())


def test_the_reference_cannot_be_the_subject() -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.parse(["--target", "websockets"])
    assert exit_info.value.code == 2
    with pytest.raises(ValueError):
        registry(subject="websockets")


def test_plan_passes_targets_and_arguments_on(tmp_path: pathlib.Path) -> None:
    plan = cli.parse([
        "--target", TINY, "--peer", SUBJECT, "--peer", TINY, "--peer", "websockets",
        "--autobahn=--cases 1.*", "--bench", "--out", str(tmp_path),
        "--", "-k", "close",
    ])
    assert plan.peers == [SUBJECT]
    steps = dict(plan.steps)
    assert list(steps) == ["conformance", "autobahn", "bench", "report"]
    assert steps["conformance"][-5:] == [
        f"--subject={TINY}", f"--targets=websockets,{TINY},{SUBJECT}",
        f"--peer-root={SUBJECT}", "-k", "close",
    ]
    assert steps["autobahn"][-8:] == [
        "--target", TINY, "--target", SUBJECT, "--strict-target", TINY, "--cases", "1.*",
    ]
    assert steps["bench"][3:] == [
        "--targets", "picows", TINY, SUBJECT, "websockets",
        "--output", str(tmp_path / "results" / "bench.json"),
    ]
    assert steps["report"][-2:] == ["--source", str(tmp_path)]
    assert plan.environment()[RESULTS_ENV] == str(tmp_path / "results")


def test_registry_puts_the_subject_in_compats_place() -> None:
    assert [(t.name, t.role) for t in registry(subject=TINY)] == [
        ("websockets", "reference"),
        (TINY, "subject"),
        ("picows.websockets", "peer"),
    ]
    assert (SUBJECT, "peer") in [(t.name, t.role) for t in registry([SUBJECT], subject=TINY)]


def test_api_declarations_are_compats_only() -> None:
    assert declarations(SUBJECT) == load().apis
    assert declarations(TINY) == ()
    entries = {entry.name: entry for entry in check_all(TINY)}
    assert "declared-unsupported" not in {entry.status for entry in entries.values()}
    assert entries["websockets.ClientProtocol"].status == "missing"
    assert entries["websockets.exceptions.ConnectionClosedOK"].status == "compatible"
