"""Branch coverage of the reference's own code while the suite compares targets against it.

It tells which parts of websockets the differential suite runs, and so which it never compares;
``[[uncompared]]`` catalogue entries declare the parts left out on purpose, and a committed budget
bounds the rest per module.
"""

from __future__ import annotations

import argparse
import ast
import collections
import contextlib
import dataclasses
import importlib
import importlib.util
import json
import pathlib
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import coverage

from reports import schema

from . import catalogue
from .catalogue import Uncompared
from .paths import result
from .targets import registry

__all__ = [
    "BUDGET",
    "MODULES",
    "RESULTS",
    "SCHEMA",
    "Budget",
    "Measurement",
    "Region",
    "budget_problems",
    "declaration_problems",
    "definitions",
    "entry_regions",
    "load_budget",
    "merge",
    "problems",
    "reference_source",
]

SCHEMA = schema.REFERENCE_COVERAGE
RESULTS = result("reference-coverage.json")
BUDGET = pathlib.Path(__file__).with_name("reference-coverage-budget.toml")
PACKAGE = "websockets"
SOURCE = "https://github.com/python-websockets/websockets/blob/{version}/src/websockets/{path}"
#: Dynamic context of the reference's import: module-level statements run there.
IMPORT = "import"

#: Reference modules whose API compat mirrors, with their paths in the package.
MODULES = {
    "websockets.asyncio.client": "asyncio/client.py",
    "websockets.asyncio.server": "asyncio/server.py",
    "websockets.asyncio.connection": "asyncio/connection.py",
    "websockets.asyncio.messages": "asyncio/messages.py",
    "websockets.protocol": "protocol.py",
    "websockets.client": "client.py",
    "websockets.server": "server.py",
    "websockets.frames": "frames.py",
    "websockets.http11": "http11.py",
    "websockets.headers": "headers.py",
    "websockets.uri": "uri.py",
    "websockets.proxy": "proxy.py",
    "websockets.datastructures": "datastructures.py",
    "websockets.exceptions": "exceptions.py",
    "websockets.extensions.base": "extensions/base.py",
    "websockets.extensions.permessage_deflate": "extensions/permessage_deflate.py",
}

#: How far below its budget a module may measure before the budget must be lowered: room for
#: branches that depend on event loop timing.
SLACK = 3


def reference_root() -> pathlib.Path:
    """The installed reference package's folder, found without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"{PACKAGE} is not installed")
    return pathlib.Path(spec.origin).resolve().parent


def reference_source(module: str) -> str:
    """Source of one of :data:`MODULES` as installed."""
    return (reference_root() / MODULES[module]).read_text(encoding="utf-8")


class Measurement:
    """Branch coverage of :data:`MODULES`, under one dynamic context per scenario.

    Nothing is measured outside :meth:`run` and the reference's import, so setup, teardown and
    reporting never count.
    """

    def __init__(self) -> None:
        self.root = reference_root()
        self.files = {name: self.root / path for name, path in MODULES.items()}
        self.coverage = coverage.Coverage(
            data_file=None,
            branch=True,
            config_file=False,
            include=[str(path) for path in self.files.values()],
        )
        self.runs: collections.Counter[str] = collections.Counter()

    @contextlib.contextmanager
    def _measuring(self, context: str) -> Iterator[None]:
        self.coverage.start()
        self.coverage.switch_context(context)
        try:
            yield
        finally:
            self.coverage.stop()

    def import_reference(self) -> None:
        """Import the modules while measuring, so that their definitions count as run."""
        early = sorted(name for name in MODULES if name in sys.modules)
        if early:
            raise RuntimeError(f"imported before measurement could start: {', '.join(early)}")
        with self._measuring(IMPORT):
            for name in MODULES:
                importlib.import_module(name)

    @contextlib.contextmanager
    def run(self, scenario: str, target: str) -> Iterator[None]:
        """Measure one run of ``scenario`` comparing ``target`` with the reference."""
        self.runs[target] += 1
        with self._measuring(scenario):
            yield

    def report(self) -> dict[str, dict[str, Any]]:
        """coverage.py's JSON report of each module, with the contexts of each line."""
        with tempfile.TemporaryDirectory() as folder:
            output = pathlib.Path(folder) / "coverage.json"
            self.coverage.json_report(
                morfs=[str(path) for path in self.files.values()],
                outfile=str(output),
                show_contexts=True,
            )
            files = json.loads(output.read_text(encoding="utf-8"))["files"]
        by_path = {pathlib.Path(name).resolve(): data for name, data in files.items()}
        return {name: by_path[path] for name, path in self.files.items() if path in by_path}

    def document(
        self,
        version: str,
        uncompared: Iterable[Uncompared],
        **fields: Any,
    ) -> dict[str, Any]:
        """The results file: per-module figures, declared parts told apart, and ``fields``."""
        regions = declared_regions(uncompared)
        report = self.report()
        scenarios = sorted(
            {
                context
                for data in report.values()
                for contexts in data.get("contexts", {}).values()
                for context in contexts
            }
            - {IMPORT}
        )
        index = {scenario: number for number, scenario in enumerate(scenarios)}
        modules = [
            module_figures(name, data, version, regions.get(name, []), index)
            for name, data in report.items()
        ]
        return {
            "schema": SCHEMA,
            **fields,
            "websockets": version,
            "coverage": coverage.__version__,
            "runs": self.runs.total(),
            "runs_by_target": dict(self.runs),
            "scenarios": scenarios,
            "modules": modules,
            "totals": totals(modules),
        }


@dataclasses.dataclass(frozen=True)
class Region:
    """Lines of a declared uncompared definition."""

    first: int
    last: int

    def __contains__(self, line: object) -> bool:
        return isinstance(line, int) and self.first <= line <= self.last

    def declares(self, branch: Sequence[int]) -> bool:
        """A branch is declared when it leaves declared code or enters it: the guard of a
        declared statement runs, only the arc into that statement never does."""
        return branch[0] in self or branch[1] in self


@dataclasses.dataclass(frozen=True)
class Arc:
    """One declared branch, from a line to another; it declares no line."""

    source: int
    target: int

    def __contains__(self, line: object) -> bool:
        return False

    def declares(self, branch: Sequence[int]) -> bool:
        return (branch[0], branch[1]) == (self.source, self.target)


#: What a declaration names in the reference: lines, or a single branch.
Declared = Region | Arc


def definitions(source: str) -> dict[str, Region]:
    """Line span of every function and class, decorators included, by qualified name.

    Nested definitions are named ``outer.inner``; a property's getter and setter share a span.
    """
    spans: dict[str, Region] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = prefix + child.name
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                last = child.end_lineno or child.lineno
                if name in spans:
                    first, last = min(first, spans[name].first), max(last, spans[name].last)
                spans[name] = Region(first, last)
                visit(child, name + ".")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return spans


def entry_regions(entry: Uncompared, source: str) -> dict[str, list[Declared]]:
    """What ``entry`` declares in ``source``, by label: a function, a statement's text, or a
    branch as ``"from -> to"``.

    A statement declared inside several of the entry's functions, or several times in one, has
    a region for each occurrence, and a branch an arc for each pair of its statements within
    one of those functions; a label missing from the result names nothing in ``source``.
    """
    spans = definitions(source)
    if not entry.statements and not entry.branches:
        return {name: [spans[name]] for name in entry.functions if name in spans}
    lines = source.splitlines()
    scopes = [spans[name] for name in entry.functions if name in spans]
    if not entry.functions:
        scopes = [Region(1, len(lines))]
    statements: dict[str, list[Region]] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.stmt | ast.ExceptHandler):
            continue
        text = lines[node.lineno - 1].strip()
        if any(node.lineno in scope for scope in scopes):
            statements.setdefault(text, []).append(
                Region(node.lineno, node.end_lineno or node.lineno)
            )
    found: dict[str, list[Declared]] = {}
    for declared in entry.statements:
        # A pair names a statement inside another: the guard, then the statement.
        guard, text = declared if isinstance(declared, tuple) else (None, declared)
        regions = [
            region
            for region in statements.get(text, [])
            if guard is None
            or any(g.first < region.first <= g.last for g in statements.get(guard, []))
        ]
        if regions:
            found[text if guard is None else f"{guard} / {text}"] = list(regions)
    for start, end in entry.branches:
        arcs: list[Declared] = [
            Arc(a.first, b.first)
            for a in statements.get(start, [])
            for b in statements.get(end, [])
            if any(a.first in scope and b.first in scope for scope in scopes)
        ]
        if arcs:
            found[f"{start} -> {end}"] = arcs
    return found


def declared_regions(uncompared: Iterable[Uncompared]) -> dict[str, list[Declared]]:
    """Regions and arcs of the declared uncompared code found in the reference, by module."""
    regions: dict[str, list[Declared]] = {}
    for entry in uncompared:
        if entry.module not in MODULES:
            continue
        found = entry_regions(entry, reference_source(entry.module))
        regions.setdefault(entry.module, []).extend(r for spans in found.values() for r in spans)
    return regions


def declaration_problems(document: dict[str, Any], uncompared: Iterable[Uncompared]) -> list[str]:
    """Declared uncompared code that scenarios ran all the same."""
    modules = {module["module"]: module for module in document["modules"]}
    problems = []
    for entry in uncompared:
        if entry.module not in modules:
            continue
        exercised = modules[entry.module]["exercised_by"]
        missing = {tuple(branch) for branch in modules[entry.module]["missing_branches"]}
        for label, regions in entry_regions(entry, reference_source(entry.module)).items():
            taken = [
                f"{r.source}->{r.target}"
                for r in regions
                if isinstance(r, Arc) and (r.source, r.target) not in missing
            ]
            if taken:
                problems.append(
                    f"{entry.module}: {label} is declared uncompared but the suite took it "
                    f"({', '.join(taken)}), or it is no branch"
                )
            runners = {
                document["scenarios"][number]
                for line, numbers in exercised.items()
                if any(int(line) in region for region in regions)
                for number in numbers
            }
            if runners:
                problems.append(
                    f"{entry.module}: {label} is declared uncompared but ran in "
                    f"{', '.join(sorted(runners)[:3])}{' and more' if len(runners) > 3 else ''}"
                )
    return problems


def percent(missing: int, total: int) -> float:
    """Share of ``total`` run, in percent; 100 when there is nothing to run."""
    return round(100 * (total - missing) / total, 2) if total else 100.0


def module_figures(
    name: str,
    data: dict[str, Any],
    version: str,
    regions: list[Declared],
    index: dict[str, int],
) -> dict[str, Any]:
    """One module's entry of the results file; ``index`` numbers the scenario ids."""
    summary = data["summary"]
    missing_lines = sorted(data["missing_lines"])
    missing_branches = sorted(data.get("missing_branches", []))
    lines = [n for n in missing_lines if any(n in r for r in regions)]
    branches = [b for b in missing_branches if any(r.declares(b) for r in regions)]
    statements = summary["num_statements"]
    branch_count = summary.get("num_branches", 0)
    exercised = {
        line: sorted(index[context] for context in contexts if context in index)
        for line, contexts in sorted(data.get("contexts", {}).items(), key=lambda i: int(i[0]))
    }
    return {
        "module": name,
        "path": MODULES[name],
        "url": SOURCE.format(version=version, path=MODULES[name]),
        "statements": statements,
        "executed_lines": sorted(data["executed_lines"]),
        "missing_lines": missing_lines,
        "branches": branch_count,
        "missing_branches": missing_branches,
        "percent_statements": percent(len(missing_lines), statements),
        "percent_branches": percent(len(missing_branches), branch_count),
        "percent": round(summary["percent_covered"], 2),
        "uncompared_lines": lines,
        "uncompared_branches": branches,
        "undeclared_lines": len(missing_lines) - len(lines),
        "undeclared_branches": len(missing_branches) - len(branches),
        "exercised_by": {line: ids for line, ids in exercised.items() if ids},
    }


def totals(modules: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures summed over the modules."""
    counts = {
        key: sum(len(m[key]) if isinstance(m[key], list) else m[key] for m in modules)
        for key in (
            "statements",
            "missing_lines",
            "branches",
            "missing_branches",
            "undeclared_lines",
            "undeclared_branches",
            "uncompared_branches",
        )
    }
    in_scope = counts["branches"] - counts.pop("uncompared_branches")
    return {
        **counts,
        "in_scope_branches": in_scope,
        "percent_statements": percent(counts["missing_lines"], counts["statements"]),
        "percent_branches": percent(counts["missing_branches"], counts["branches"]),
        "percent_in_scope_branches": percent(counts["undeclared_branches"], in_scope),
        "percent": percent(
            counts["missing_lines"] + counts["missing_branches"],
            counts["statements"] + counts["branches"],
        ),
    }


@dataclasses.dataclass(frozen=True)
class Budget:
    """Uncovered, undeclared reference lines and branches allowed per module."""

    websockets: str
    modules: dict[str, dict[str, int]]


def load_budget(path: pathlib.Path = BUDGET) -> Budget:
    """Parse the committed budget."""
    with path.open("rb") as file:
        raw = tomllib.load(file)
    return Budget(str(raw["websockets"]), dict(raw["modules"]))


def budget_problems(document: dict[str, Any], budget: Budget) -> list[str]:
    """Why a measurement breaks its budget: above it, or so far below that it must be lowered."""
    if document.get("websockets") != budget.websockets:
        return [
            f"budget set for websockets {budget.websockets}, measured {document.get('websockets')}:"
            " line numbers moved; set the budget again from a measured run"
        ]
    problems = []
    measured = {module["module"]: module for module in document["modules"]}
    for name in sorted(set(MODULES) - set(measured)):
        problems.append(f"{name}: not measured")
    for name, module in sorted(measured.items()):
        allowed = budget.modules.get(name, {})
        for kind in ("lines", "branches"):
            value, limit = module[f"undeclared_{kind}"], allowed.get(kind, 0)
            if value > limit:
                problems.append(
                    f"{name}: {value} uncovered {kind} neither run nor declared uncompared, "
                    f"budget {limit}: add scenarios or declare them in [[uncompared]]"
                )
            elif value < limit - SLACK:
                problems.append(
                    f"{name}: {value} uncovered {kind}, budget {limit}: "
                    f"lower the budget to {value} in {BUDGET.name}"
                )
    return problems


def problems(
    document: dict[str, Any],
    budget: Budget,
    uncompared: Iterable[Uncompared],
    expected: Iterable[str],
) -> list[str]:
    """Why a measurement fails: runs left out, ``expected`` targets not run, over or far under
    its budget, declared uncompared code run."""
    found = []
    if document["runs"] != document["planned_runs"]:
        found.append(
            f"{document['runs']} of {document['planned_runs']} runs measured: "
            "the budget applies to every scenario on every target"
        )
    missing = set(expected) - set(document["targets"])
    if missing:
        found.append(f"targets not run: {', '.join(sorted(missing))}")
    return found + budget_problems(document, budget) + declaration_problems(document, uncompared)


def merge(documents: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One results file for the runs of ``documents``: parts of one run, measured apart.

    A line run in any part was run; a branch missing from every part was never taken. The parts
    are shards of a run split by target: a target measured in several of them ran the same runs
    in each (the reference, whose baselines every shard makes), so its runs count once.
    """
    versions = sorted({document["websockets"] for document in documents})
    if len(versions) > 1:
        raise ValueError(f"parts measured different references: websockets {', '.join(versions)}")
    scenarios = sorted({name for document in documents for name in document["scenarios"]})
    index = {name: number for number, name in enumerate(scenarios)}
    runs: dict[str, int] = {}
    planned: dict[str, int] = {}
    for document in documents:
        for counts, key in ((runs, "runs_by_target"), (planned, "planned_by_target")):
            for target, count in document[key].items():
                counts[target] = max(counts.get(target, 0), count)
    modules = [
        merge_module(
            [
                (module, document["scenarios"])
                for document in documents
                for module in document["modules"]
                if module["module"] == name
            ],
            index,
        )
        for name in MODULES
        if any(module["module"] == name for document in documents for module in document["modules"])
    ]
    first = documents[0]
    return {
        "schema": SCHEMA,
        "started": min(document["started"] for document in documents),
        "finished": max(document["finished"] for document in documents),
        "targets": list(dict.fromkeys(t for document in documents for t in document["targets"])),
        "planned_runs": sum(planned.values()),
        "planned_by_target": planned,
        "websockets": first["websockets"],
        "coverage": first["coverage"],
        "runs": sum(runs.values()),
        "runs_by_target": runs,
        "scenarios": scenarios,
        "modules": modules,
        "totals": totals(modules),
    }


def merge_module(
    parts: list[tuple[dict[str, Any], list[str]]], index: dict[str, int]
) -> dict[str, Any]:
    """One module's figures over ``parts``: its entry in each part, with that part's scenarios."""
    modules = [module for module, _ in parts]

    def common(key: str) -> list[Any]:
        """Entries of ``key`` found in every part: lines, or branches as [from, to]."""
        shared = set.intersection(*({json.dumps(item) for item in m[key]} for m in modules))
        return sorted(json.loads(item) for item in shared)

    missing_lines = common("missing_lines")
    missing_branches = common("missing_branches")
    uncompared_lines = common("uncompared_lines")
    uncompared_branches = common("uncompared_branches")
    exercised: dict[int, set[int]] = {}
    for module, scenarios in parts:
        for line, numbers in module["exercised_by"].items():
            exercised.setdefault(int(line), set()).update(index[scenarios[n]] for n in numbers)
    statements, branches = modules[0]["statements"], modules[0]["branches"]
    return {
        **modules[0],
        "executed_lines": sorted({line for m in modules for line in m["executed_lines"]}),
        "missing_lines": missing_lines,
        "missing_branches": missing_branches,
        "percent_statements": percent(len(missing_lines), statements),
        "percent_branches": percent(len(missing_branches), branches),
        "percent": percent(len(missing_lines) + len(missing_branches), statements + branches),
        "uncompared_lines": uncompared_lines,
        "uncompared_branches": uncompared_branches,
        "undeclared_lines": len(missing_lines) - len(uncompared_lines),
        "undeclared_branches": len(missing_branches) - len(uncompared_branches),
        "exercised_by": {str(line): sorted(numbers) for line, numbers in sorted(exercised.items())},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Check a results file against the budget, as the suite does at the end of a whole run:
    for runs split into shards, whose measurements are merged first."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance.refcoverage", description=main.__doc__
    )
    parser.add_argument("results", type=pathlib.Path, nargs="?", default=RESULTS)
    args = parser.parse_args(argv)
    try:
        document = json.loads(args.results.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{args.results}: {exc}", file=sys.stderr)
        return 1
    found = problems(
        document,
        load_budget(),
        catalogue.load().uncompared,
        [target.name for target in registry()],
    )
    for problem in found:
        print(problem, file=sys.stderr)
    figures = document["totals"]
    print(
        f"reference coverage: {figures['percent_statements']}% of statements, "
        f"{figures['percent_branches']}% of branches "
        f"({figures.get('percent_in_scope_branches')}% of those not declared uncompared), "
        f"{'within budget' if not found else f'{len(found)} problems'}: {args.results}"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
