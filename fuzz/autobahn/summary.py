"""Summaries of Autobahn reports: one entry per mode and target in ``summary.json``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reports import schema

__all__ = ["SCHEMA", "format_line", "summarize", "write_summary"]

SCHEMA = schema.AUTOBAHN

COUNTED = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")
# Outcomes of ``behavior`` or ``behaviorClose`` that make a case fail.
FAILING = frozenset({"FAILED", "WRONG CODE", "UNCLEAN"})


def _relative(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def summarize(
    *,
    mode: str,
    target: str,
    runner: str,
    outdir: Path,
    base: Path,
    seconds: float,
    excluded: Mapping[str, str],
    error: str | None = None,
) -> dict[str, Any]:
    """Summarize the ``index.json`` a run wrote in ``outdir``; paths are relative to ``base``.

    ``error`` records why the run broke (a missing index is one such reason).
    """
    index_path = outdir / "index.json"
    cases: dict[str, dict[str, Any]] = {}
    try:
        index = json.loads(index_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        error = error or f"no report: {exc}"
        index = {}
    # Reports are keyed by agent: one per run here, but merge defensively.
    for agent_cases in index.values():
        for case_id, entry in agent_cases.items():
            cases[case_id] = {
                "behavior": entry["behavior"],
                "behaviorClose": entry["behaviorClose"],
                "duration": entry.get("duration"),
                "report": _relative(outdir / entry["reportfile"], base),
            }
    cases = dict(sorted(cases.items(), key=lambda item: [int(p) for p in item[0].split(".")]))
    failed = [
        case_id
        for case_id, case in cases.items()
        if {case["behavior"], case["behaviorClose"]} & FAILING
    ]
    counts = dict.fromkeys(COUNTED, 0)
    for case_id, case in cases.items():
        outcome = "FAILED" if case_id in failed else case["behavior"]
        counts[outcome] = counts.get(outcome, 0) + 1
    summary: dict[str, Any] = {
        "mode": mode,
        "target": target,
        "runner": runner,
        "total": len(cases),
        "counts": counts,
        "failed": failed,
        "excluded": dict(excluded),
        "seconds": round(seconds, 1),
        "index": _relative(index_path, base),
        "cases": cases,
    }
    if error is not None:
        summary["error"] = error
    return summary


def write_summary(path: Path, runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge ``runs`` into the summary at ``path``, replacing runs of the same mode and target.

    Runs not repeated now keep their earlier entry, matching the reports left on disk.
    Return the merged runs.
    """
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        previous = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        previous = {}
    if previous.get("schema") == SCHEMA:
        merged = {(run["mode"], run["target"]): run for run in previous["runs"]}
    for run in runs:
        merged[run["mode"], run["target"]] = run
    document = {"schema": SCHEMA, "runs": list(merged.values())}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return list(merged.values())


def format_line(run: Mapping[str, Any]) -> str:
    """One human-readable line for a run."""
    counts = ", ".join(f"{count} {name}" for name, count in run["counts"].items() if count)
    line = f"{run['mode']} {run['target']}: {run['total']} cases ({counts or 'none'})"
    if run["failed"]:
        line += f"; failed: {' '.join(run['failed'])}"
    if run["excluded"]:
        reasons = "; ".join(f"{case}: {why}" for case, why in run["excluded"].items())
        line += f"; excluded: {reasons}"
    if "error" in run:
        line += f"; BROKEN: {run['error']}"
    return line + f" [{run['runner']}, {run['seconds']} s]"
