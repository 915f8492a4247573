"""Turn the result files of one run into the report's data ("compat-report/2")."""

from __future__ import annotations

import datetime
import os
import pathlib
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from . import schema
from .inputs import Input

__all__ = ["SCHEMA", "build"]

SCHEMA = schema.REPORT

REFERENCE = "websockets"
RAW_PICOWS = "picows"

#: Run statuses from best to worst; a scenario's result for a target is its worst run.
STATUSES = ("identical", "declared", "different", "error")

AUTOBAHN_VERDICTS = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")


def worst(statuses: list[str]) -> str:
    """The worst of some run statuses; unknown statuses count as errors."""
    ranks = [STATUSES.index(s) if s in STATUSES else len(STATUSES) - 1 for s in statuses]
    return STATUSES[max(ranks)]


def natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key ordering "1.2.10" after "1.2.9"."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text)]


def differs(statuses: Iterable[str]) -> bool:
    """Whether any of these statuses departs from the reference's behaviour."""
    return any(status not in ("baseline", "identical") for status in statuses)


def overall(statuses: list[str]) -> str:
    """A target's result over several runs or scenarios: its worst compared status."""
    compared = [s for s in statuses if s != "baseline"]
    return worst(compared) if compared else "baseline"


def scenario_results(scenario: schema.ConformanceScenario) -> dict[str, dict[str, Any]]:
    """Each target's result on a scenario: worst status and the runs behind it."""
    runs: dict[str, list[dict[str, Any]]] = {}
    for run in scenario.get("runs", []):
        runs.setdefault(run.get("target", "?"), []).append(
            {
                "client": run.get("client"),
                "server": run.get("server"),
                "status": run.get("status"),
                "declared": run.get("declared"),
                "diff": list(run.get("diff") or []),
            }
        )
    results = {}
    for target, target_runs in runs.items():
        status = overall([r["status"] for r in target_runs])
        declared = sorted({r["declared"] for r in target_runs if r["declared"]})
        results[target] = {"status": status, "declared": declared, "runs": target_runs}
    return results


def build_scenarios(conformance: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Every scenario with its per-target results."""
    scenarios = []
    for scenario in (conformance or {}).get("scenarios", []):
        results = scenario_results(scenario)
        scenarios.append(
            {
                "id": scenario.get("id"),
                "feature": scenario.get("feature"),
                "seed": scenario.get("seed"),
                "title": scenario.get("title"),
                "sides": scenario.get("sides"),
                "results": results,
                "differs": differs(r["status"] for r in results.values()),
            }
        )
    return scenarios


def build_targets(
    conformance: dict[str, Any] | None, autobahn: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Targets of the run: those of the conformance suite, else those Autobahn exercised."""
    if conformance is not None:
        return [
            {
                "name": target.get("name"),
                "role": target.get("role"),
                "version": target.get("version"),
                "available": target.get("available", True),
                "error": target.get("error"),
            }
            for target in conformance.get("targets", [])
        ]
    names = sorted({run.get("target") for run in (autobahn or {}).get("runs", [])} - {None})
    return [
        {
            "name": name,
            "role": "reference" if name == REFERENCE else None,
            "version": None,
            "available": True,
            "error": None,
        }
        for name in names
    ]


def build_headline(
    targets: list[dict[str, Any]],
    scenarios: list[dict[str, Any]],
    conformance: dict[str, Any] | None,
    autobahn: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """One verdict per non-reference target."""
    reference_failed = {
        run.get("mode"): list(run.get("failed") or [])
        for run in (autobahn or {}).get("runs", [])
        if run.get("target") == REFERENCE
    }
    headline = []
    for target in targets:
        name = target["name"]
        if target["role"] == "reference":
            continue
        counts = Counter(s["results"][name]["status"] for s in scenarios if name in s["results"])
        total = sum(counts.values())
        runs = [run for run in (autobahn or {}).get("runs", []) if run.get("target") == name]
        failed = {run.get("mode"): (run.get("counts") or {}).get("FAILED", 0) for run in runs}
        regressions = {
            run.get("mode"): [
                case
                for case in run.get("failed") or []
                if case not in reference_failed.get(run.get("mode"), ())
            ]
            for run in runs
        }
        broken = [run.get("mode") for run in runs if run.get("error")]
        entry: dict[str, Any] = {
            "target": name,
            "role": target["role"],
            "available": target["available"],
            "error": target["error"],
            "conformance": None,
            "autobahn_failed": failed if autobahn is not None else None,
            "autobahn_reference_failed": reference_failed if autobahn is not None else None,
            "autobahn_regressions": regressions,
            "autobahn_broken": broken,
        }
        if conformance is not None and target["available"]:
            entry["conformance"] = {
                "scenarios": total,
                **{status: counts.get(status, 0) for status in STATUSES},
                "runs": (conformance.get("summary") or {}).get(name),
            }
        entry["verdict"] = verdict(entry)
        entry["ok"] = bool(
            entry["conformance"]
            and entry["conformance"]["different"] == 0
            and entry["conformance"]["error"] == 0
            and not any(regressions.values())
            and not broken
        )
        headline.append(entry)
    return headline


def verdict(entry: dict[str, Any]) -> str:
    """One sentence readable at a glance."""
    name = entry["target"]
    if not entry["available"]:
        return f"{name}: not available ({entry['error']})"
    result = entry["conformance"]
    if result is None:
        return f"{name}: conformance not run"
    text = (
        f"{name}: drop-in for {result['identical']}/{result['scenarios']} scenarios, "
        f"{result['declared']} declared differences, {result['different']} undeclared differences"
    )
    if result["error"]:
        text += f", {result['error']} errors"
    failed = sum((entry["autobahn_failed"] or {}).values())
    new = sum(len(cases) for cases in entry["autobahn_regressions"].values())
    if failed:
        text += f"; Autobahn: {failed} failed cases, {new} not failed by websockets"
    elif entry["autobahn_failed"]:
        text += "; Autobahn: no failed case"
    return text


def scenario_matches(scenario: dict[str, Any], feature_id: str) -> bool:
    """Whether a scenario proves a feature, by its seed or feature tag."""
    tag = scenario.get("feature") or ""
    seeded = scenario.get("seed") == feature_id
    return seeded or tag == feature_id or tag.startswith(feature_id + ".")


def build_features(
    catalogue: dict[str, list[dict[str, Any]]] | None,
    scenarios: list[dict[str, Any]],
) -> list[dict[str, Any]] | None:
    """Catalogue features with the scenarios that prove them and their results."""
    if catalogue is None:
        return None
    features = []
    for feature in catalogue["features"]:
        fid = feature.get("id", "")
        proving = [s for s in scenarios if scenario_matches(s, fid)]
        statuses: dict[str, list[str]] = {}
        for scenario in proving:
            for target, result in scenario["results"].items():
                statuses.setdefault(target, []).append(result["status"])
        results: dict[str, dict[str, Any]] = {
            target: {"status": overall(values), "counts": dict(Counter(values))}
            for target, values in statuses.items()
        }
        features.append(
            {
                "id": fid,
                "status": feature.get("status"),
                "seed": feature.get("seed"),
                "peer_status": feature.get("peer_status"),
                "description": feature.get("description"),
                "error": feature.get("error"),
                "alternative": feature.get("alternative"),
                "targets": list(feature.get("targets", [])),
                "differences": [
                    {
                        "id": d.get("id"),
                        "targets": list(d.get("targets", [])),
                        "reason": d.get("reason"),
                    }
                    for d in catalogue["differences"]
                    if d.get("feature") == fid
                ],
                "scenarios": [s["id"] for s in proving],
                "results": results,
                "differs": feature.get("status") != "supported"
                or differs(r["status"] for r in results.values()),
            }
        )
    return features


def excusals(
    scenarios: list[dict[str, Any]], hypothesis: dict[str, Any] | None
) -> dict[str, Counter[str]]:
    """Per declared difference, how many scenario runs and generated examples it excused."""
    counts: dict[str, Counter[str]] = {}
    for scenario in scenarios:
        for result in scenario["results"].values():
            for run in result["runs"]:
                if run.get("declared"):
                    counts.setdefault(run["declared"], Counter())["runs"] += 1
    for prop in (hypothesis or {}).get("properties", []):
        for difference, examples in (prop.get("excused") or {}).items():
            counts.setdefault(difference, Counter())["examples"] += int(examples)
    return counts


def build_differences(
    catalogue: dict[str, list[dict[str, Any]]] | None,
    scenarios: list[dict[str, Any]],
    excused: dict[str, Counter[str]],
) -> list[dict[str, Any]] | None:
    """Declared differences with the scenarios whose runs they cover, and what they excused."""
    if catalogue is None:
        return None
    return [
        {
            "id": d.get("id"),
            "targets": list(d.get("targets", [])),
            "scenarios": list(d.get("scenarios", [])),
            "reason": d.get("reason"),
            "feature": d.get("feature"),
            "used_by": [
                s["id"]
                for s in scenarios
                if any(d.get("id") in result["declared"] for result in s["results"].values())
            ],
            "excused": {
                kind: excused.get(str(d.get("id")), Counter())[kind]
                for kind in ("runs", "examples")
            },
        }
        for d in catalogue["differences"]
    ]


def catalogue_targets(catalogue: dict[str, list[dict[str, Any]]] | None) -> list[str] | None:
    """The targets the catalogue declares anything for: a subject outside it has no declared
    difference, so each of its differences counts as undeclared."""
    if catalogue is None:
        return None
    entries = [*catalogue["features"], *catalogue["differences"]]
    return sorted({name for entry in entries for name in entry.get("targets", [])})


def pick(entry: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The listed fields of a result entry, None for the missing ones."""
    return {key: entry.get(key) for key in keys}


def build_surface(surface: dict[str, Any] | None) -> dict[str, Any] | None:
    """API-surface entries of the checked root and their counts by status."""
    if surface is None:
        return None
    entries = sorted(
        (pick(e, "name", "kind", "status", "detail") for e in surface.get("entries", [])),
        key=lambda e: natural_key(str(e["name"])),
    )
    return {
        "root": surface.get("root"),
        "counts": dict(Counter(e.get("status") for e in entries)),
        "entries": entries,
        "beyond": {
            peer: sorted(names, key=natural_key)
            for peer, names in surface.get("beyond", {}).items()
        },
    }


def build_autobahn(
    autobahn: dict[str, Any] | None, source: pathlib.Path, output: pathlib.Path
) -> dict[str, Any] | None:
    """Autobahn runs with per-case links relative to the HTML file."""
    if autobahn is None:
        return None
    folder = source / "autobahn"
    base = pathlib.Path(os.path.relpath(folder, output)).as_posix()

    def link(path: str | None) -> str | None:
        return f"{base}/{path}" if path else None

    def index(path: str | None) -> str | None:
        """The runner's index page, preferring its HTML rendering to its JSON."""
        if path and path.endswith(".json") and (folder / path).with_suffix(".html").exists():
            path = path.removesuffix(".json") + ".html"
        return link(path)

    runs = []
    for run in autobahn.get("runs", []):
        failed = list(run.get("failed") or [])
        cases = run.get("cases") or {}
        runs.append(
            {
                "mode": run.get("mode"),
                "target": run.get("target"),
                "runner": run.get("runner"),
                "total": run.get("total"),
                "counts": dict.fromkeys(AUTOBAHN_VERDICTS, 0) | dict(run.get("counts") or {}),
                "failed": failed,
                "excluded": dict(run.get("excluded") or {}),
                "seconds": run.get("seconds"),
                "error": run.get("error"),
                "index": index(run.get("index")),
                "cases": [
                    {
                        "id": case_id,
                        "behavior": case.get("behavior"),
                        "behaviorClose": case.get("behaviorClose"),
                        "duration": case.get("duration"),
                        "failed": case_id in failed,
                        "report": link(case.get("report")),
                    }
                    for case_id, case in sorted(cases.items(), key=lambda kv: natural_key(kv[0]))
                ],
            }
        )
    return {"runs": runs}


#: Fields of a property's result shown; ``feature`` and ``title`` are its registry entry's.
PROPERTY_FIELDS = (
    "name",
    "feature",
    "title",
    "target",
    "examples",
    "failures",
    "counterexample",
    "seconds",
)


def build_hypothesis(hypothesis: dict[str, Any] | None) -> dict[str, Any] | None:
    """Hypothesis properties and per-target totals."""
    if hypothesis is None:
        return None
    properties = [pick(p, *PROPERTY_FIELDS) for p in hypothesis.get("properties", [])]
    totals: dict[str, dict[str, int]] = {}
    for prop in properties:
        total = totals.setdefault(
            prop["target"] or "?", {"properties": 0, "examples": 0, "failures": 0}
        )
        total["properties"] += 1
        total["examples"] += int(prop["examples"] or 0)
        total["failures"] += int(prop["failures"] or 0)
    return {"profile": hypothesis.get("profile"), "totals": totals, "properties": properties}


def speedup(value: float | None, base: float | None, higher_is_better: bool) -> float | None:
    """How many times better ``value`` is than ``base`` (above 1 means better)."""
    if not value or not base:
        return None
    return value / base if higher_is_better else base / value


#: Cost figures of a benchmark result, in the order the report shows them.
BENCH_COSTS = ("cpu_us_per_msg", "cpu_ms_per_mib", "syscalls_per_msg", "peak_rss_mib")


def bench_cost(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A result's cost figures: ``{figure: {side: {"median", "min", "max"}}}``."""
    cost = result.get("cost") or {}
    return {
        figure: {side: pick(summary, "median", "min", "max") for side, summary in sides.items()}
        for figure in BENCH_COSTS
        if (sides := cost.get(figure))
    }


def build_bench(bench: dict[str, Any] | None) -> dict[str, Any] | None:
    """Benchmark medians with speedups versus websockets and raw picows, and costs."""
    if bench is None:
        return None
    cases = []
    for case in bench.get("cases", []):
        hib = bool(case.get("higher_is_better"))
        results = case.get("results") or {}
        medians = {target: r.get("median") for target, r in results.items()}
        side = case.get("side") or "total"
        costs = {target: bench_cost(r) for target, r in results.items()}
        cpu = {t: c.get("cpu_us_per_msg", {}).get(side, {}).get("median") for t, c in costs.items()}
        cases.append(
            {
                "case": case.get("case"),
                "group": case.get("group"),
                "loop": case.get("loop"),
                "unit": case.get("unit"),
                "higher_is_better": hib,
                "side": side,
                "config": dict(case.get("config") or {}),
                "negotiated": dict(case.get("negotiated") or {}),
                "unavailable": dict(case.get("unavailable") or {}),
                "cost_figures": [f for f in BENCH_COSTS if any(f in c for c in costs.values())],
                "errors": dict(case.get("errors") or {}),
                "results": {
                    target: {
                        "median": r.get("median"),
                        "min": r.get("min"),
                        "max": r.get("max"),
                        "samples": len(r.get("samples") or []),
                        "vs_websockets": None
                        if target == REFERENCE
                        else speedup(r.get("median"), medians.get(REFERENCE), hib),
                        "vs_picows": None
                        if target == RAW_PICOWS
                        else speedup(r.get("median"), medians.get(RAW_PICOWS), hib),
                        "messages": ((r.get("cost") or {}).get("messages") or {}).get("median"),
                        "cost": costs[target],
                        "cpu_vs_websockets": None
                        if target == REFERENCE
                        else speedup(cpu[target], cpu.get(REFERENCE), False),
                        "cpu_vs_picows": None
                        if target == RAW_PICOWS
                        else speedup(cpu[target], cpu.get(RAW_PICOWS), False),
                    }
                    for target, r in results.items()
                },
            }
        )
    return {
        "machine": bench.get("machine") or {},
        "rounds": bench.get("rounds"),
        "settings": bench.get("settings") or {},
        "meters": bench.get("meters") or {},
        "unavailable": bench.get("unavailable") or {},
        "cases": cases,
    }


def build_reliability(reliability: dict[str, Any] | None) -> dict[str, Any] | None:
    """Reliability figures per target: load, integrity, leaks, and the rest as they are."""
    if reliability is None:
        return None
    targets = {}
    for name, data in (reliability.get("targets") or {}).items():
        known = {"role", "load", "integrity", "leaks"}
        targets[name] = {
            "role": data.get("role"),
            "load": data.get("load") or {},
            "integrity": data.get("integrity") or {},
            "leaks": data.get("leaks") or {},
            "other": {key: value for key, value in data.items() if key not in known},
        }
    return {"variant": reliability.get("variant"), "targets": targets}


#: Figures of ``reference-coverage.json`` totals.
COVERAGE_TOTALS = (
    "statements",
    "missing_lines",
    "branches",
    "missing_branches",
    "undeclared_lines",
    "undeclared_branches",
    "percent_statements",
    "percent_branches",
    "in_scope_branches",
    "percent_in_scope_branches",
    "percent",
)


def uncovered_ranges(module: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs of consecutive uncovered statements, split where the declared ones start or stop."""
    missing = set(module.get("missing_lines") or [])
    declared = set(module.get("uncompared_lines") or [])
    url = module.get("url")
    ranges: list[dict[str, Any]] = []
    previous = False
    for line in sorted(missing | set(module.get("executed_lines") or [])):
        run = line in missing
        if run and previous and ranges[-1]["declared"] == (line in declared):
            ranges[-1]["last"] = line
        elif run:
            ranges.append({"first": line, "last": line, "declared": line in declared})
        previous = run
    for entry in ranges:
        first, last = entry["first"], entry["last"]
        anchor = f"#L{first}" if first == last else f"#L{first}-L{last}"
        entry["url"] = f"{url}{anchor}" if url else None
    return ranges


def build_reference_coverage(
    coverage: dict[str, Any] | None, catalogue: dict[str, list[dict[str, Any]]] | None
) -> dict[str, Any] | None:
    """Reference coverage per module, with links to the uncovered lines of the released source."""
    if coverage is None:
        return None
    modules = []
    for module in coverage.get("modules") or []:
        url = module.get("url")
        declared = {tuple(branch) for branch in module.get("uncompared_branches") or []}
        figures = ("statements", "branches", "percent_statements", "percent_branches")
        modules.append(
            {
                **pick(module, "module", "path", "url", *figures),
                **pick(module, "undeclared_lines", "undeclared_branches"),
                "missing_lines": len(module.get("missing_lines") or []),
                "missing_branches": len(module.get("missing_branches") or []),
                "ranges": uncovered_ranges(module),
                "branches_missed": [
                    {
                        "from": start,
                        "to": end,
                        "declared": (start, end) in declared,
                        "url": f"{url}#L{start}" if url else None,
                    }
                    for start, end in module.get("missing_branches") or []
                ],
            }
        )
    return {
        **pick(coverage, "websockets", "coverage", "runs", "planned_runs", "started", "finished"),
        "scenarios": len(coverage.get("scenarios") or []),
        "totals": pick(coverage.get("totals") or {}, *COVERAGE_TOTALS),
        "modules": modules,
        "uncompared": None
        if catalogue is None
        else [
            {
                **pick(entry, "module", "reason"),
                "functions": entry.get("functions") or [],
                "statements": [
                    text if isinstance(text, str) else " / ".join(text)
                    for text in entry.get("statements") or []
                ],
                "branches": [" → ".join(arc) for arc in entry.get("branches") or []],
            }
            for entry in catalogue["uncompared"]
        ],
    }


#: Figures of ``compat-coverage.json`` totals.
COMPAT_COVERAGE_TOTALS = (
    "statements",
    "missing_lines",
    "branches",
    "missing_branches",
    "percent_statements",
    "percent_branches",
    "percent_differential_statements",
)


def build_compat_coverage(coverage: dict[str, Any] | None) -> dict[str, Any] | None:
    """compat's own coverage over the test run, and the modules with anything missed."""
    if coverage is None:
        return None
    return {
        "totals": pick(coverage.get("totals") or {}, *COMPAT_COVERAGE_TOTALS),
        "missed": [
            pick(module, "path", "missing_lines", "missing_branches")
            for module in coverage.get("modules") or []
            if module.get("missing_lines") or module.get("missing_branches")
        ],
    }


def build(
    inputs: dict[str, Input],
    catalogue: dict[str, list[dict[str, Any]]] | None,
    catalogue_error: str | None,
    source: pathlib.Path,
    output: pathlib.Path,
) -> dict[str, Any]:
    """The whole report as plain JSON-serialisable data."""
    data = {name: item.data for name, item in inputs.items()}
    conformance = data["conformance"]
    scenarios = build_scenarios(conformance)
    targets = build_targets(conformance, data["autobahn"])
    subjects = [target["name"] for target in targets if target["role"] == "subject"]
    return {
        "schema": SCHEMA,
        "generated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "inputs": {name: item.summary() for name, item in inputs.items()},
        "environment": (conformance or {}).get("environment"),
        "conformance_run": (
            {"started": conformance.get("started"), "finished": conformance.get("finished")}
            if conformance is not None
            else None
        ),
        "targets": targets,
        "subject": subjects[0] if subjects else None,
        "catalogue_targets": catalogue_targets(catalogue),
        "headline": build_headline(targets, scenarios, conformance, data["autobahn"]),
        "catalogue_error": catalogue_error,
        "features": build_features(catalogue, scenarios),
        "differences": build_differences(
            catalogue, scenarios, excusals(scenarios, data["hypothesis"])
        ),
        "unsupported_apis": catalogue["apis"] if catalogue is not None else None,
        "scenarios": scenarios,
        "surface": build_surface(data["surface"]),
        "autobahn": build_autobahn(data["autobahn"], source, output),
        "hypothesis": build_hypothesis(data["hypothesis"]),
        "bench": build_bench(data["bench"]),
        "reliability": build_reliability(data["reliability"]),
        "reference_coverage": build_reference_coverage(data["reference_coverage"], catalogue),
        "compat_coverage": build_compat_coverage(data["compat_coverage"]),
    }
