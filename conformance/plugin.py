"""pytest plugin of the conformance suite: options, runs, terminal summary and results JSON."""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib
import platform
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from . import catalogue, refcoverage, trace
from .scenario import SCENARIOS, Scenario, run
from .targets import REFERENCE, Target, registry

SCHEMA = "compat-conformance/1"
ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "reports" / "out" / "results" / "conformance.json"
STATUSES = ("identical", "declared", "different", "error")
RAW = "raw"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance")
    group.addoption(
        "--targets",
        default=None,
        help="comma-separated target names to run (the reference always runs)",
    )
    group.addoption(
        "--peer-root",
        action="append",
        default=[],
        metavar="ROOT",
        help="extra peer module root exposing the websockets asyncio API (repeatable)",
    )
    group.addoption(
        "--reference-coverage",
        action="store_true",
        default=False,
        help="measure branch coverage of the reference while scenarios compare against it, "
        f"check it against {refcoverage.BUDGET.name} and write {refcoverage.RESULTS.name}",
    )


@dataclasses.dataclass(frozen=True)
class Run:
    """One pairing of one scenario; None on a side means a raw peer plays it."""

    scenario: Scenario
    client: Target | None
    server: Target | None
    target: Target

    @property
    def id(self) -> str:
        client = self.client.name if self.client else RAW
        server = self.server.name if self.server else RAW
        return f"{self.scenario.id}|{client}->{server}"

    @property
    def baseline(self) -> bool:
        return self.target.role == "reference"


class Conformance:
    """Session state: targets, cached reference traces and recorded results."""

    def __init__(self, config: pytest.Config) -> None:
        only = config.getoption("--targets")
        names = [name.strip() for name in only.split(",")] if only else None
        self.targets = registry(config.getoption("--peer-root"), names)
        self.reference = next(target for target in self.targets if target.role == "reference")
        self.catalogue = catalogue.load()
        self.references: dict[str, tuple[Any, str | None, float]] = {}
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.started = datetime.datetime.now(datetime.UTC)
        self.measurement: refcoverage.Measurement | None = None
        if config.getoption("--reference-coverage"):
            try:
                self.measurement = refcoverage.Measurement()
                self.measurement.import_reference()
            except RuntimeError as exc:
                raise pytest.UsageError(f"--reference-coverage: {exc}") from exc

    def runs(self, case: Scenario) -> Iterator[Run]:
        """The baseline, then each other target alone, as client and as server."""
        ref = self.reference
        for target in self.targets:
            both = [(target, target)]
            if target is not ref:
                both += [(target, ref), (ref, target)]
            pairings = {
                "both": both,
                "client": [(target, None)],
                "server": [(None, target)],
            }[case.sides]
            for client, server in pairings:
                yield Run(case, client, server, target)

    async def reference_trace(self, case: Scenario) -> tuple[Any, str | None, float]:
        """The baseline trace of ``case`` (computed once) or its error, and its duration."""
        if case.id not in self.references:
            baseline = next(self.runs(case))
            try:
                result, seconds = await run(case, baseline.client, baseline.server)
                self.references[case.id] = (result, None, seconds)
            except Exception as exc:
                self.references[case.id] = (None, f"{type(exc).__name__}: {exc}", 0.0)
        return self.references[case.id]

    def record(self, item: Run, **fields: Any) -> dict[str, Any]:
        entry = {
            "client": item.client.name if item.client else RAW,
            "server": item.server.name if item.server else RAW,
            "target": item.target.name,
            "declared": None,
            "diff": [],
            "trace": None,
            "reference_trace": None,
            "seconds": 0.0,
            **fields,
        }
        self.results.setdefault(item.scenario.id, []).append(entry)
        return entry

    async def execute(self, item: Run) -> None:
        """Run one pairing, measuring the reference's coverage meanwhile if asked to."""
        if self.measurement is None:
            await self.compare(item)
            return
        with self.measurement.run(item.scenario.id):
            await self.compare(item)

    async def compare(self, item: Run) -> None:
        """Run one pairing, record its outcome, fail if the subject differs."""
        case = item.scenario
        if not item.target.available:
            message = f"target {item.target.name} unavailable: {item.target.error}"
            self.record(item, status="error", diff=[message])
            if item.target.role != "peer":
                pytest.fail(message, pytrace=False)
            return
        reference, reference_error, reference_seconds = await self.reference_trace(case)
        if item.baseline:
            if reference_error is not None:
                self.record(item, status="error", diff=[reference_error])
                pytest.fail(f"reference run failed: {reference_error}", pytrace=False)
            self.record(
                item, status="baseline", trace=reference, seconds=round(reference_seconds, 4)
            )
            return
        try:
            if reference_error is not None:
                raise RuntimeError(f"reference run failed: {reference_error}")
            actual, seconds = await run(case, item.client, item.server)
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            self.record(item, status="error", diff=[message], reference_trace=reference)
            if item.target.role == "subject":
                pytest.fail(f"{item.id} crashed: {message}", pytrace=False)
            return
        diff = trace.compare(reference, actual)
        declared = None
        if diff:
            declared = self.catalogue.declared(item.target.name, case.id, case.seed, actual, diff)
        status = "identical" if not diff else "declared" if declared else "different"
        self.record(
            item,
            status=status,
            declared=declared,
            diff=diff,
            trace=actual,
            reference_trace=reference,
            seconds=round(seconds, 4),
        )
        if status == "different" and item.target.role == "subject":
            names = (f"{REFERENCE} (reference)", item.id)
            pytest.fail(
                f"undeclared difference in {item.id}\n" + trace.render(reference, actual, names),
                pytrace=False,
            )

    def summary(self) -> dict[str, dict[str, int]]:
        counts = {
            target.name: dict.fromkeys(STATUSES, 0)
            for target in self.targets
            if target.role != "reference"
        }
        for entries in self.results.values():
            for entry in entries:
                if entry["status"] in STATUSES and entry["target"] in counts:
                    counts[entry["target"]][entry["status"]] += 1
        return counts

    def write_reference_coverage(self) -> pathlib.Path:
        """Write the reference coverage measured so far; return the file's path."""
        assert self.measurement is not None, "--reference-coverage is off"
        document = self.measurement.document(
            self.reference.version or "unknown",
            self.catalogue.uncompared,
            started=self.started.isoformat(),
            finished=datetime.datetime.now(datetime.UTC).isoformat(),
            targets=[target.name for target in self.targets],
            planned_runs=sum(1 for case in SCENARIOS.values() for _ in self.runs(case)),
        )
        refcoverage.RESULTS.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(document, separators=(",", ":"))
        refcoverage.RESULTS.write_text(text, encoding="utf-8")
        return refcoverage.RESULTS

    def document(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "started": self.started.isoformat(),
            "finished": datetime.datetime.now(datetime.UTC).isoformat(),
            "environment": environment(self.targets),
            "targets": [target.describe() for target in self.targets],
            "scenarios": [
                {
                    "id": case.id,
                    "feature": case.feature,
                    "seed": case.seed,
                    "title": case.title,
                    "sides": case.sides,
                    "runs": self.results[case.id],
                }
                for case in SCENARIOS.values()
                if case.id in self.results
            ],
            "summary": self.summary(),
        }


def environment(targets: list[Target]) -> dict[str, Any]:
    """Interpreter, platform, library versions and git commit."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    versions = {target.root.split(".")[0]: target.version for target in targets}
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "picows": Target("picows", "picows", "peer").version,
        "websockets": versions.get("websockets"),
        "compat": Target("compat", "compat", "subject").version,
        "git_commit": commit,
        "date": datetime.date.today().isoformat(),
    }


STATE = pytest.StashKey[Conformance]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reference_coverage: checks the reference coverage measured in the session; "
        "deselected without --reference-coverage, run after every other test with it",
    )
    config.stash[STATE] = Conformance(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    checks = [item for item in items if item.get_closest_marker("reference_coverage")]
    if not checks:
        return
    others = [item for item in items if item not in checks]
    if config.getoption("--reference-coverage"):
        items[:] = others + checks
    else:
        config.hook.pytest_deselected(items=checks)
        items[:] = others


def state(config: pytest.Config) -> Conformance:
    """The session's conformance state."""
    return config.stash[STATE]


def pytest_sessionfinish(session: pytest.Session) -> None:
    conformance = session.config.stash.get(STATE, None)
    if conformance is None or not conformance.results:
        return
    if conformance.measurement is not None and conformance.measurement.runs:
        conformance.write_reference_coverage()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(conformance.document(), indent=2) + "\n")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    conformance = config.stash.get(STATE, None)
    if conformance is None or not conformance.results:
        return
    write = terminalreporter.write_line
    terminalreporter.section("conformance")
    write(f"{'target':<24}{'role':<10}" + "".join(f"{status:>11}" for status in STATUSES))
    summary = conformance.summary()
    for target in conformance.targets:
        if target.name not in summary:
            continue
        counts = "".join(f"{summary[target.name][status]:>11}" for status in STATUSES)
        note = "" if target.available else f"  unavailable: {target.error}"
        write(f"{target.name:<24}{target.role:<10}{counts}{note}")
    write(f"results: {RESULTS}")
    if conformance.measurement is not None and conformance.measurement.runs:
        totals = json.loads(refcoverage.RESULTS.read_text(encoding="utf-8"))["totals"]
        write(
            f"reference coverage: {totals['percent_statements']}% of statements, "
            f"{totals['percent_branches']}% of branches: {refcoverage.RESULTS}"
        )
