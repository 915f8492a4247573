"""Result files of a run split into shards, or between xdist workers, merge into those of the
whole run.

The end-to-end tests run a few scenarios selected with ``-k`` in subprocesses: once whole, once
as two shards by ``--targets``, once on two xdist workers, each writing into its own folder.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from conformance import refcoverage
from conformance.paths import RESULTS_ENV
from reports.merge import MergeError, interleave, merge, merge_results
from reports.render import render

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: Scenarios of each side: both, client only, server only.
SELECT = (
    "close.client-closes-1000 or close.server-closes-1000 or close.peer-1000 "
    "or hooks.request-health-check"
)
TIMEOUT = 600.0
#: Fields that differ between two runs of the same scenarios: timestamps and durations.
TIMED = {"started", "finished", "seconds", "generated", "date"}


def session(out: pathlib.Path, *args: str) -> None:
    """pytest on the scenarios of :data:`SELECT`, writing results into ``out/results``."""
    command = [
        sys.executable, "-m", "pytest", "conformance/test_conformance.py", "-q",
        "-p", "no:cacheprovider", "-k", SELECT, *args,
    ]
    env = {**os.environ, RESULTS_ENV: str(out / "results")}
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def untimed(value: Any) -> Any:
    """``value`` without :data:`TIMED` fields, at any depth."""
    if isinstance(value, dict):
        return {key: untimed(item) for key, item in value.items() if key not in TIMED}
    if isinstance(value, list):
        return [untimed(item) for item in value]
    return value


def read(path: pathlib.Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def report(out: pathlib.Path) -> Any:
    """compatibility.json rendered from ``out``."""
    render(out)
    return untimed(read(out / "compatibility.json"))


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The output folder of the whole run, reference coverage included."""
    out = tmp_path_factory.mktemp("whole")
    session(out, "--reference-coverage")
    return out


def test_shards_by_target_merge_into_the_whole_run(
    whole: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    shards = [tmp_path / "compat", tmp_path / "peer"]
    session(shards[0], "--reference-coverage", "--targets", "compat")
    session(shards[1], "--reference-coverage", "--targets", "picows.websockets")
    merged = tmp_path / "merged"
    command = [sys.executable, "-m", "reports", "merge", str(merged), *map(str, shards)]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr

    for name in ("conformance.json", "reference-coverage.json"):
        expected = untimed(read(whole / "results" / name))
        assert untimed(read(merged / "results" / name)) == expected, name
    assert read(merged / "results" / "reference-coverage.json")["runs"] == read(
        whole / "results" / "reference-coverage.json"
    )["runs"]
    assert report(merged) == report(whole)


def test_xdist_workers_merge_into_the_whole_run(
    whole: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    session(tmp_path, "-n", "2")

    assert sorted(path.name for path in (tmp_path / "results").iterdir()) == ["conformance.json"]
    expected = untimed(read(whole / "results" / "conformance.json"))
    assert untimed(read(tmp_path / "results" / "conformance.json")) == expected


def test_interleave_keeps_each_order_and_breaks_ties_by_rank() -> None:
    assert interleave([["a", "c"], ["a", "b", "c"]]) == ["a", "b", "c"]
    ranks = {"x1": 0, "y1": 1, "x2": 0, "y2": 1}
    assert interleave([["y1", "y2"], ["x1", "x2"]], ranks.__getitem__) == ["x1", "x2", "y1", "y2"]
    assert interleave([["a", "b"], ["b", "a"], ["c"]]) == ["c", "a", "b"]


def write(folder: pathlib.Path, name: str, document: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(document))


def hypothesis(profile: str, *keys: tuple[str, str]) -> dict[str, Any]:
    return {
        "schema": "compat-hypothesis/1",
        "profile": profile,
        "properties": [{"name": name, "target": target, "examples": 1} for name, target in keys],
    }


def test_properties_keep_the_order_of_a_whole_run(tmp_path: pathlib.Path) -> None:
    write(tmp_path / "a", "hypothesis.json", hypothesis("ci", ("p1", "compat"), ("p2", "compat")))
    write(tmp_path / "b", "hypothesis.json", hypothesis("ci", ("p1", "peer"), ("p2", "peer")))

    merge_results(tmp_path / "out", [tmp_path / "a", tmp_path / "b"])

    merged = read(tmp_path / "out" / "hypothesis.json")
    assert [(p["name"], p["target"]) for p in merged["properties"]] == [
        ("p1", "compat"), ("p1", "peer"), ("p2", "compat"), ("p2", "peer"),
    ]
    write(tmp_path / "c", "hypothesis.json", hypothesis("fuzz", ("p3", "compat")))
    with pytest.raises(MergeError, match="profile"):
        merge_results(tmp_path / "out", [tmp_path / "a", tmp_path / "c"])


def reliability(**targets: dict[str, Any]) -> dict[str, Any]:
    return {"schema": "compat-reliability/2", "variant": "ci", "targets": targets}


def test_reliability_keeps_each_figure_once(tmp_path: pathlib.Path) -> None:
    reference = {"role": "reference", "load": {"connections": 10}, "problems": ["slow"]}
    write(
        tmp_path / "a",
        "reliability.json",
        reliability(websockets=reference, compat={"role": "subject", "problems": ["p1"]}),
    )
    write(
        tmp_path / "b",
        "reliability.json",
        reliability(
            websockets={**reference, "problems": ["slow", "late"]},
            peer={"role": "peer", "problems": ["p2"]},
        ),
    )

    merge_results(tmp_path / "out", [tmp_path / "a", tmp_path / "b"])

    targets = read(tmp_path / "out" / "reliability.json")["targets"]
    assert list(targets) == ["websockets", "compat", "peer"]
    assert targets["websockets"] == {**reference, "problems": ["slow", "late"]}


def figures(
    executed: set[int], taken: set[tuple[int, int]], contexts: dict[int, list[str]]
) -> dict[str, Any]:
    """coverage.py's report of a module of six statements and two branches."""
    arcs = [(2, 3), (2, 5)]
    missing = [line for line in range(1, 7) if line not in executed]
    untaken = [list(arc) for arc in arcs if arc not in taken]
    return {
        "summary": {
            "num_statements": 6,
            "num_branches": 2,
            "percent_covered": 100 * (len(executed) + len(arcs) - len(untaken)) / 8,
        },
        "executed_lines": sorted(executed),
        "missing_lines": missing,
        "missing_branches": untaken,
        "contexts": {str(line): names for line, names in contexts.items()},
    }


def coverage(
    targets: list[str],
    runs: dict[str, int],
    executed: set[int],
    taken: set[tuple[int, int]],
    contexts: dict[int, list[str]],
) -> dict[str, Any]:
    """reference-coverage.json of one measured module, lines 4 to 6 declared uncompared."""
    scenarios = sorted({name for names in contexts.values() for name in names})
    module = refcoverage.module_figures(
        "websockets.frames",
        figures(executed, taken, contexts),
        "17.4",
        [refcoverage.Region(4, 6)],
        {name: number for number, name in enumerate(scenarios)},
    )
    return {
        "schema": refcoverage.SCHEMA,
        "started": "2026-01-01T00:00:00",
        "finished": "2026-01-01T00:01:00",
        "targets": targets,
        "planned_runs": sum(runs.values()),
        "planned_by_target": runs,
        "websockets": "17.4",
        "coverage": "7.6",
        "runs": sum(runs.values()),
        "runs_by_target": runs,
        "scenarios": scenarios,
        "modules": [module],
        "totals": refcoverage.totals([module]),
    }


def test_coverage_of_shards_is_the_coverage_of_their_runs() -> None:
    shard = coverage(
        ["websockets", "compat"], {"websockets": 1, "compat": 3}, {1, 2, 3}, {(2, 3)},
        {2: ["s1"], 3: ["s1"]},
    )
    other = coverage(
        ["websockets", "peer"], {"websockets": 1, "peer": 3}, {1, 2, 5}, {(2, 5)},
        {1: ["import"], 2: ["s0"], 5: ["s0"]},
    )

    merged = refcoverage.merge([shard, other])

    assert merged == coverage(
        ["websockets", "compat", "peer"],
        {"websockets": 1, "compat": 3, "peer": 3},
        {1, 2, 3, 5},
        {(2, 3), (2, 5)},
        {1: ["import"], 2: ["s0", "s1"], 3: ["s1"], 5: ["s0"]},
    )
    assert merged["modules"][0]["missing_lines"] == [4, 6]
    assert merged["modules"][0]["undeclared_lines"] == 0
    with pytest.raises(ValueError, match=r"17\.4, 18\.0"):
        refcoverage.merge([shard, {**other, "websockets": "18.0"}])


def autobahn(folder: pathlib.Path, mode: str, target: str, failed: list[str]) -> None:
    """An Autobahn shard: its summary and the reports of its one run."""
    reports = folder / "autobahn" / mode / target
    reports.mkdir(parents=True)
    (reports / "case_1_1_1.json").write_text("{}")
    run = {
        "mode": mode, "target": target, "runner": "kosoku", "total": 1, "failed": failed,
        "counts": {"OK": 1 - len(failed), "FAILED": len(failed)}, "excluded": {}, "seconds": 1.0,
        "index": f"{mode}/{target}/index.json",
        "cases": {"1.1.1": {"behavior": "FAILED" if failed else "OK", "behaviorClose": "OK",
                            "duration": 3, "report": f"{mode}/{target}/case_1_1_1.json"}},
    }
    (folder / "autobahn" / "summary.json").write_text(
        json.dumps({"schema": "compat-autobahn/1", "runs": [run]})
    )


def test_autobahn_runs_merge_with_their_reports(tmp_path: pathlib.Path) -> None:
    shards = [tmp_path / "server-compat", tmp_path / "client-compat", tmp_path / "client-peer"]
    autobahn(shards[0], "fuzzingserver", "compat", [])
    autobahn(shards[1], "fuzzingclient", "compat", [])
    autobahn(shards[2], "fuzzingclient", "peer", ["1.1.1"])
    out = tmp_path / "out"

    written = merge(out, shards)

    summary = read(out / "autobahn" / "summary.json")
    assert [(run["mode"], run["target"]) for run in summary["runs"]] == [
        ("fuzzingserver", "compat"), ("fuzzingclient", "compat"), ("fuzzingclient", "peer"),
    ]
    for run in summary["runs"]:
        assert (out / "autobahn" / run["cases"]["1.1.1"]["report"]).exists()
    suites = ET.parse(out / "autobahn" / "junit.xml").getroot()
    assert [(s.get("name"), s.get("failures")) for s in suites] == [
        ("autobahn.fuzzingserver.compat", "0"),
        ("autobahn.fuzzingclient.compat", "0"),
        ("autobahn.fuzzingclient.peer", "1"),
    ]
    assert written == [out / "autobahn" / "summary.json", out / "autobahn" / "junit.xml"]


def test_files_no_run_splits_come_from_one_shard(tmp_path: pathlib.Path) -> None:
    bench = {"schema": "compat-bench/1", "cases": []}
    write(tmp_path / "a" / "results", "bench.json", bench)

    assert merge(tmp_path / "out", [tmp_path / "a", tmp_path / "b"]) == [
        tmp_path / "out" / "results" / "bench.json"
    ]
    write(tmp_path / "b" / "results", "bench.json", bench)
    with pytest.raises(MergeError, match="2 parts wrote compat-bench/1"):
        merge(tmp_path / "out", [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(MergeError, match="one of the shards"):
        merge(tmp_path / "a", [tmp_path / "a", tmp_path / "b"])
    (tmp_path / "b" / "results" / "bench.json").write_text("{")
    with pytest.raises(MergeError, match="unreadable"):
        merge(tmp_path / "out", [tmp_path / "b"])
