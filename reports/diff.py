"""What got worse between two ``compatibility.json`` files (schema ``compat-report/2``).

``python -m reports diff OLD.json NEW.json`` prints one line per regression and exits 1 when
there is any, 0 otherwise. A regression is:

- a scenario whose status for a target got worse (identical → declared → different → error);
- a difference declared for a target on a scenario where none was used before;
- an Autobahn case that a target passed (``OK``) and now fails or passes only ``NON-STRICT``;
- a benchmark speedup against websockets that dropped by more than the noise: the larger
  relative spread (``(max - min) / median`` over rounds) of the two runs' medians involved.

Scenarios, cases or benchmarks present in only one file are not regressions: a new check can't
have got worse, and a removed one is visible in the review of the change that removed it.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from collections.abc import Iterator
from typing import Any

from . import schema

__all__ = ["Regression", "main", "regressions"]

# Statuses from best to worst; "baseline" is the reference against itself.
ORDER = {"baseline": 0, "identical": 0, "declared": 1, "different": 2, "error": 3}
PASSING = {"OK"}
WORSE_CASE = {"FAILED", "NON-STRICT"}


@dataclasses.dataclass(frozen=True)
class Regression:
    """One thing that got worse: what, where, and its value before and after."""

    kind: str
    where: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.before} -> {self.after}"


def regressions(old: dict[str, Any], new: dict[str, Any]) -> list[Regression]:
    """Every regression from ``old`` to ``new``, in a stable order."""
    return [*_scenarios(old, new), *_autobahn(old, new), *_bench(old, new)]


def _scenarios(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Regression]:
    before = {scenario["id"]: scenario["results"] for scenario in old.get("scenarios") or []}
    for scenario in new.get("scenarios") or []:
        previous = before.get(scenario["id"])
        if previous is None:
            continue
        for target, result in scenario["results"].items():
            was = previous.get(target)
            if was is None:
                continue
            where = f"{target} on {scenario['id']}"
            if ORDER.get(result["status"], 3) > ORDER.get(was["status"], 3):
                yield Regression("scenario", where, was["status"], result["status"])
            added = sorted(set(result.get("declared") or []) - set(was.get("declared") or []))
            if added:
                yield Regression(
                    "declared", where, ", ".join(was.get("declared") or []) or "none",
                    ", ".join(added),
                )


def _autobahn_cases(report: dict[str, Any]) -> dict[tuple[str, str, str], str]:
    runs = (report.get("autobahn") or {}).get("runs") or []
    return {
        (run["mode"], run["target"], case["id"]): "FAILED" if case["failed"] else case["behavior"]
        for run in runs
        for case in run.get("cases") or []
    }


def _autobahn(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Regression]:
    before = _autobahn_cases(old)
    for (mode, target, case), verdict in sorted(_autobahn_cases(new).items()):
        was = before.get((mode, target, case))
        if was in PASSING and verdict in WORSE_CASE:
            yield Regression("autobahn", f"{target} {mode} case {case}", was, verdict)


def _spread(result: dict[str, Any]) -> float:
    median = result.get("median")
    low, high = result.get("min"), result.get("max")
    if not median or low is None or high is None:
        return 0.0
    return float(high - low) / float(median)


def _bench(old: dict[str, Any], new: dict[str, Any]) -> Iterator[Regression]:
    def cases(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        return {
            (case["case"], case.get("loop") or ""): case["results"]
            for case in (report.get("bench") or {}).get("cases") or []
        }

    before = cases(old)
    for key, results in sorted(cases(new).items()):
        previous = before.get(key)
        if previous is None:
            continue
        for target, result in sorted(results.items()):
            was = previous.get(target)
            ratio, old_ratio = result.get("vs_websockets"), (was or {}).get("vs_websockets")
            if was is None or ratio is None or old_ratio is None:
                continue
            involved = [result, was, results.get("websockets", {}), previous.get("websockets", {})]
            noise = max(_spread(item) for item in involved)
            if ratio < old_ratio * (1 - noise):
                where = f"{target} {key[0]}" + (f" ({key[1]})" if key[1] else "")
                yield Regression(
                    "bench", where, f"{old_ratio:.2f}x websockets",
                    f"{ratio:.2f}x websockets (noise {noise:.0%})",
                )


def load(path: pathlib.Path) -> dict[str, Any]:
    """A ``compatibility.json`` file; refuse other schemas."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("schema") != schema.REPORT:
        raise SystemExit(f"{path}: not a {schema.REPORT} file (schema {data.get('schema')!r})")
    return data


def main(old: pathlib.Path, new: pathlib.Path) -> int:
    """Print the regressions from ``old`` to ``new``; 1 if there is any."""
    found = regressions(load(old), load(new))
    for regression in found:
        print(regression)
    print(f"{len(found)} regression{'s' if len(found) != 1 else ''} from {old} to {new}")
    return 1 if found else 0
