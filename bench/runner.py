"""Run the cases round by round, alternating targets, and build the results document."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import fnmatch
import importlib.metadata
import json
import os
import platform
import statistics
from collections.abc import Coroutine, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from reports import schema
from reports.progress import Progress

from . import loops, usage
from .cases import CASES, Case, Sample, Settings, measure
from .servers import ServerPool, ServerSpec, server_process
from .targets import TARGETS, unavailable

__all__ = ["SCHEMA", "Config", "rotate", "run", "select", "write"]

SCHEMA = schema.BENCH

#: Seconds one measurement may take on top of its nominal duration before it is abandoned.
MEASUREMENT_TIMEOUT = 120.0


@dataclasses.dataclass(frozen=True)
class Config:
    """What to run: how many rounds of which cases, for which targets, on which loops."""

    rounds: int = 5
    settings: Settings = dataclasses.field(default_factory=Settings)
    targets: Sequence[str] = TARGETS
    cases: Sequence[str] = ()
    loops: Sequence[str] = loops.LOOPS


def select(config: Config) -> list[Case]:
    """Cases whose name matches one of ``config.cases`` (glob patterns), on selected loops."""
    patterns = config.cases or ["*"]
    return [
        case
        for case in CASES
        if case.loop in config.loops
        and loops.available(case.loop)
        and any(fnmatch.fnmatchcase(case.name, pattern) for pattern in patterns)
    ]


def rotate(targets: Sequence[str], round_index: int) -> list[str]:
    """Order of targets in a round: each round starts one target later, to cancel drift."""
    shift = round_index % len(targets) if targets else 0
    return [*targets[shift:], *targets[:shift]]


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """Where and with what the numbers were measured."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "picows": _version("picows"),
        "websockets": _version("websockets"),
        "compat": _version("compat"),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def _summary(samples: Sequence[float]) -> dict[str, Any]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": list(samples),
    }


def _costs(case: Case, runs: list[Sample]) -> dict[str, Any]:
    """Summaries of the cost figures over rounds, when every round has them."""
    costs = [run.cost for run in runs if run.cost is not None]
    if not costs or len(costs) < len(runs):
        return {}
    rounds = [cost.figures(case.peak) for cost in costs]
    summary: dict[str, Any] = {"messages": _summary([cost.messages for cost in costs])}
    for figure, sides in rounds[0].items():
        if all(figure in figures for figures in rounds):
            summary[figure] = {
                side: _summary([round(figures[figure][side], 3) for figures in rounds])
                for side in sides
            }
    return {"cost": summary}


def _eligible(case: Case, targets: Sequence[str]) -> list[str]:
    """The targets ``case`` can run."""
    return [target for target in targets if case.unsupported(target) is None]


def _run_case(
    case: Case, targets: list[str], pool: ServerPool, config: Config, progress: Progress
) -> list[dict[str, Any]]:
    unsupported = {target: case.unsupported(target) for target in targets}
    eligible = _eligible(case, targets)
    samples: dict[str, list[Sample]] = {target: [] for target in eligible}
    errors: dict[str, str] = {}
    with loops.new_runner(case.loop) as runner:
        for round_index in range(config.rounds):
            for target in rotate(eligible, round_index):
                if target not in errors:
                    try:
                        sample = _measure_once(case, target, pool, runner, config.settings)
                    except Exception as exc:  # a failing target is reported, the run goes on
                        errors[target] = f"{type(exc).__name__}: {exc}"
                        progress.log(f"  {target}: {errors[target]}")
                    else:
                        samples[target].append(sample)
                # A target that failed counts its remaining rounds as done.
                progress.advance()
    measured = {target: runs for target, runs in samples.items() if runs and target not in errors}
    rows = []
    for index, row in enumerate(case.rows):
        entry: dict[str, Any] = {
            "case": row.case,
            "group": case.group,
            "loop": case.loop,
            "unit": row.unit,
            "higher_is_better": row.higher_is_better,
            "side": case.side,
            "results": {
                target: _summary([round(run.values[index], 3) for run in runs])
                | (_costs(case, runs) if index == 0 else {})
                for target, runs in measured.items()
            },
        }
        if case.workload not in ("concurrency", "memory"):
            entry["config"] = case.config()
        if case.deflate is not None:
            entry["negotiated"] = {target: runs[0].extension for target, runs in measured.items()}
        if errors:
            entry["errors"] = errors
        reasons = {target: reason for target, reason in unsupported.items() if reason}
        if reasons:
            entry["unavailable"] = reasons
        rows.append(entry)
    return rows


def _measure_once(
    case: Case, target: str, pool: ServerPool, runner: asyncio.Runner, settings: Settings
) -> Sample:
    spec = ServerSpec(case.server(target), case.loop, case.deflate, case.tls)
    # Memory is read from a fresh server process; other cases reuse a warm one.
    fresh = case.workload == "memory"
    with server_process(spec) if fresh else nullcontext(pool.get(spec)) as server:
        return runner.run(_bounded(measure(case, target, server, settings)))


async def _bounded(measurement: Coroutine[Any, Any, Sample]) -> Sample:
    async with asyncio.timeout(MEASUREMENT_TIMEOUT):
        return await measurement


def run(config: Config) -> dict[str, Any]:
    """Run the selected cases and return the results document (schema ``compat-bench/1``)."""
    loops.raise_fd_limit()
    missing = {target: unavailable(target) for target in config.targets}
    targets = [target for target in config.targets if missing[target] is None]
    document: dict[str, Any] = {
        "schema": SCHEMA,
        "machine": machine(),
        "rounds": config.rounds,
        "settings": dataclasses.asdict(config.settings),
        "meters": usage.meters(),
        "unavailable": {target: reason for target, reason in missing.items() if reason},
        "cases": [],
    }
    cases = select(config)
    total = sum(config.rounds * len(_eligible(case, targets)) for case in cases)
    progress = Progress("bench", total, "measurements")
    with ServerPool() as pool:
        for case in cases:
            progress.log(f"{case.name} [{case.loop}]")
            document["cases"] += _run_case(case, targets, pool, config, progress)
    progress.close()
    return document


def write(document: dict[str, Any], path: Path) -> None:
    """Write the results document as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
