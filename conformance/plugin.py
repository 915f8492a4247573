"""pytest plugin of the conformance suite: options, runs, terminal summary and results JSON."""

from __future__ import annotations

import dataclasses
import datetime
import json
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from reports import merge, schema

from . import catalogue, paths, refcoverage, runner, scenarios
from .scenario import SCENARIOS, Scenario, run
from .targets import SUBJECT, Target, registry

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = paths.result("conformance.json")
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
        "--subject",
        default=SUBJECT,
        metavar="ROOT",
        help=f"module root whose undeclared differences fail the run (default {SUBJECT}); "
        f"with another root, {SUBJECT} runs only if named with --peer-root",
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
    def names(self) -> tuple[str, str]:
        """The names of the client and the server, ``raw`` for a raw peer."""
        return (self.client.name if self.client else RAW, self.server.name if self.server else RAW)

    @property
    def id(self) -> str:
        client, server = self.names
        return f"{self.scenario.id}|{client}->{server}"

    @property
    def alone(self) -> bool:
        """Whether the target is the only library of the pairing (the other side is itself or
        a raw peer): a scenario's requirement holds the target to what it alone logs, say."""
        return all(side is None or side is self.target for side in (self.client, self.server))

    @property
    def baseline(self) -> bool:
        return self.target.role == "reference"


class Conformance:
    """Session state: targets, cached reference traces and recorded results."""

    def __init__(self, config: pytest.Config) -> None:
        only = config.getoption("--targets")
        names = [name.strip() for name in only.split(",")] if only else None
        try:
            self.targets = registry(
                config.getoption("--peer-root"), names, subject=config.getoption("--subject")
            )
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from exc
        self.reference = next(target for target in self.targets if target.role == "reference")
        self.catalogue = catalogue.load()
        self.results: dict[str, list[schema.ConformanceRun]] = {}
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
            both: list[tuple[Target | None, Target | None]] = [(target, target)]
            if target is not ref:
                both += [(target, ref), (ref, target)]
            pairings: dict[str, list[tuple[Target | None, Target | None]]] = {
                "both": both,
                "client": [(target, None)],
                "server": [(None, target)],
            }
            for client, server in pairings[case.sides]:
                yield Run(case, client, server, target)

    async def baseline(self, case: Scenario) -> runner.Baseline:
        """The reference's run of ``case``, computed once."""
        baseline = next(self.runs(case))

        async def compute() -> object:
            result, _ = await run(case, baseline.client, baseline.server)
            return result

        return await runner.reference(case.id, compute)

    def record(
        self,
        item: Run,
        status: schema.RunStatus,
        *,
        declared: str | None = None,
        diff: list[str] | None = None,
        changes: list[schema.Change] | None = None,
        trace: object = None,
        reference_trace: object = None,
        seconds: float = 0.0,
    ) -> None:
        client, server = item.names
        entry: schema.ConformanceRun = {
            "client": client,
            "server": server,
            "target": item.target.name,
            "status": status,
            "declared": declared,
            "diff": diff or [],
            "changes": changes or [],
            "trace": trace,
            "reference_trace": reference_trace,
            "seconds": seconds,
        }
        self.results.setdefault(item.scenario.id, []).append(entry)

    async def execute(self, item: Run) -> None:
        """Run one pairing, measuring the reference's coverage meanwhile if asked to."""
        if self.measurement is None:
            await self.compare(item)
            return
        with self.measurement.run(item.scenario.id, item.target.name):
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
        baseline = await self.baseline(case)
        if item.baseline:
            if baseline.error is not None:
                self.record(item, status="error", diff=[baseline.error])
                pytest.fail(f"reference run failed: {baseline.error}", pytrace=False)
            self.record(
                item, status="baseline", trace=baseline.trace, seconds=round(baseline.seconds, 4)
            )
            return
        try:
            expected = baseline.value()
            actual, seconds = await run(case, item.client, item.server)
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            self.record(item, status="error", diff=[message], reference_trace=baseline.trace)
            if item.target.role == "subject":
                pytest.fail(f"{item.id} crashed: {message}", pytrace=False)
            return
        verdict = runner.judge(
            case.id, item.target, expected, actual, case.seed, case.require if item.alone else None
        )
        self.record(
            item,
            status=verdict.status,
            declared=verdict.declared,
            diff=verdict.diff(),
            changes=[change.document() for change in verdict.changes],
            trace=actual,
            reference_trace=expected,
            seconds=round(seconds, 4),
        )
        if verdict.fails:
            pytest.fail(verdict.explain(f"undeclared difference in {item.id}"), pytrace=False)

    def summary(self) -> dict[str, dict[str, int]]:
        return merge.conformance_summary(
            ({"name": target.name, "role": target.role} for target in self.targets),
            (entry for entries in self.results.values() for entry in entries),
        )

    def write_reference_coverage(self, folder: pathlib.Path) -> pathlib.Path:
        """Write the reference coverage measured so far into ``folder``; return the file."""
        assert self.measurement is not None, "--reference-coverage is off"
        planned = Counter(
            item.target.name for case in SCENARIOS.values() for item in self.runs(case)
        )
        document = self.measurement.document(
            self.reference.version or "unknown",
            self.catalogue.uncompared,
            started=self.started.isoformat(),
            finished=datetime.datetime.now(datetime.UTC).isoformat(),
            targets=[target.name for target in self.targets],
            planned_runs=planned.total(),
            planned_by_target=dict(planned),
        )
        path = folder / refcoverage.RESULTS.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
        return path

    def plan(self) -> list[tuple[str, str, str]]:
        """Scenario, client and server of every run of a whole session, in its order."""
        scenarios.load_all()
        return [
            (case.id, *item.names) for case in scenarios.registered() for item in self.runs(case)
        ]

    def document(self) -> schema.ConformanceDocument:
        return {
            "schema": schema.CONFORMANCE,
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
        "reference_coverage: checks what the whole session measured (the reference's "
        "coverage, the declarations it used); "
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


#: Folder of the workers' parts of the results in an xdist session, on the controller.
PARTS = pytest.StashKey[pathlib.Path]()
#: Key of that folder in what the controller sends each worker.
PARTS_INPUT = "conformance_parts"


def results_folder(config: pytest.Config) -> pathlib.Path:
    """Where this process writes result files: the results folder, or on a pytest-xdist worker
    a folder of its own, whose files the controller merges into the results folder at the end."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return RESULTS.parent
    return pathlib.Path(workerinput[PARTS_INPUT]) / str(workerinput["workerid"])


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Give the pytest-xdist worker ``node`` the folder of the parts, made for the session."""
    if PARTS not in node.config.stash:
        node.config.stash[PARTS] = pathlib.Path(tempfile.mkdtemp(prefix="conformance-parts-"))
    node.workerinput[PARTS_INPUT] = str(node.config.stash[PARTS])


def readable(value: Any) -> Any:
    """``value`` with lone surrogates in its strings written as escapes, so that it encodes."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [readable(item) for item in value]
    if isinstance(value, tuple):
        return tuple(readable(item) for item in value)
    if isinstance(value, dict):
        return {readable(key): readable(item) for key, item in value.items()}
    return value


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(
    config: pytest.Config, report: pytest.CollectReport | pytest.TestReport
) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
    """Reports as xdist workers send them, in UTF-8: hostile input decoded with
    ``surrogateescape`` reaches captured logs and outputs."""
    data = yield
    return None if data is None else readable(data)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to measure the reference's coverage in an xdist session, before workers start:
    the measurement and its budget check are one process's."""
    config = session.config
    if config.getoption("--reference-coverage") and config.pluginmanager.has_plugin("dsession"):
        raise pytest.UsageError(
            "--reference-coverage measures one process: run it without -n, or split the run "
            "into shards by --targets and merge them with python -m reports merge"
        )


def collect(conformance: Conformance, parts: pathlib.Path) -> None:
    """Merge the workers' result files into the results folder, and take the runs merged as
    the session's, for its summary."""
    try:
        written = merge.merge_results(
            RESULTS.parent, sorted(parts.iterdir()), conformance.plan()
        )
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    if RESULTS in written:
        document = json.loads(RESULTS.read_text(encoding="utf-8"))
        conformance.results = {case["id"]: case["runs"] for case in document["scenarios"]}


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the results, a worker's part of them, or, on the controller of an xdist session,
    the workers' parts merged."""
    conformance = session.config.stash.get(STATE, None)
    if conformance is None:
        return
    parts = session.config.stash.get(PARTS, None)
    if parts is not None:
        collect(conformance, parts)
        return
    if not conformance.results:
        return
    folder = results_folder(session.config)
    if conformance.measurement is not None and conformance.measurement.runs:
        conformance.write_reference_coverage(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RESULTS.name).write_text(json.dumps(conformance.document(), indent=2) + "\n")


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
            f"{totals['percent_branches']}% of branches "
            f"({totals['percent_in_scope_branches']}% of those not declared uncompared): "
            f"{refcoverage.RESULTS}"
        )
