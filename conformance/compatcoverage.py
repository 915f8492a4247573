"""compat's own coverage over the whole test run, and the differential suite's share of it.

``tox`` runs the tests under ``coverage run`` (configured in ``pyproject.toml``: branch coverage
of the ``compat`` package, one dynamic context per test function). ``python -m
conformance.compatcoverage`` then reads that data, prints the modules with anything missed,
writes ``compat-coverage.json`` beside the other result files, and exits 1 unless every
statement and branch of compat ran, as websockets requires of itself. Code that cannot run
carries ``# pragma: no cover`` with its reason.

The differential suite's share is what tests of ``conformance/`` and ``fuzz/`` ran alone: the
part of compat that was compared with websockets rather than only unit-tested.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

import coverage

from reports import schema

from .paths import ROOT, result

__all__ = ["DIFFERENTIAL", "SCHEMA", "figures", "main"]

SCHEMA = schema.COMPAT_COVERAGE
#: Contexts (test functions, as ``package.module.function``) of the differential suite.
DIFFERENTIAL = ("conformance.", "fuzz.")


def percent(run: int, total: int) -> float:
    """Share of ``total`` run, in percent; 100 when there is nothing to run."""
    return round(100 * run / total, 2) if total else 100.0


def _differential(data: coverage.CoverageData) -> int:
    """Statements that the differential suite's contexts ran, over all measured files."""
    data.set_query_contexts([f"^{re.escape(prefix)}" for prefix in DIFFERENTIAL])
    try:
        return sum(len(data.lines(name) or ()) for name in data.measured_files())
    finally:
        data.set_query_contexts(None)


def figures(cov: coverage.Coverage) -> dict[str, Any]:
    """Per-module and total figures of the measured data, as the results file holds them."""
    with tempfile.TemporaryDirectory() as folder:
        output = pathlib.Path(folder) / "coverage.json"
        cov.json_report(outfile=str(output))
        report = json.loads(output.read_text(encoding="utf-8"))
    modules = []
    for name, data in sorted(report["files"].items()):
        summary = data["summary"]
        statements, branches = summary["num_statements"], summary.get("num_branches", 0)
        modules.append(
            {
                "path": _relative(name),
                "statements": statements,
                "missing_lines": data["missing_lines"],
                "branches": branches,
                "missing_branches": data.get("missing_branches", []),
                "percent_statements": percent(summary["covered_lines"], statements),
                "percent_branches": percent(summary.get("covered_branches", 0), branches),
            }
        )
    totals = report["totals"]
    statements, branches = totals["num_statements"], totals.get("num_branches", 0)
    differential = _differential(cov.get_data())
    return {
        "schema": SCHEMA,
        "coverage": coverage.__version__,
        "contexts": len(cov.get_data().measured_contexts()),
        "modules": modules,
        "totals": {
            "statements": statements,
            "missing_lines": totals["missing_lines"],
            "branches": branches,
            "missing_branches": totals.get("missing_branches", 0),
            "percent_statements": percent(totals["covered_lines"], statements),
            "percent_branches": percent(totals.get("covered_branches", 0), branches),
            "differential_statements": differential,
            "percent_differential_statements": percent(differential, statements),
        },
    }


def _relative(path: str) -> str:
    """``compat/...`` whether compat ran from the checkout or from an installed wheel."""
    parts = pathlib.Path(path).parts
    return "/".join(parts[len(parts) - parts[::-1].index("compat") - 1 :])


def main(argv: Sequence[str] | None = None) -> int:
    """Print and write the figures; exit 1 unless everything ran."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance.compatcoverage", description=__doc__
    )
    parser.add_argument(
        "--data-file",
        type=pathlib.Path,
        default=None,
        help="coverage data file (default: the one pyproject.toml configures)",
    )
    options = parser.parse_args(argv)
    config = str(ROOT / "pyproject.toml")
    if options.data_file is None:
        cov = coverage.Coverage(config_file=config)
    else:
        cov = coverage.Coverage(data_file=str(options.data_file), config_file=config)
    cov.load()
    if not cov.get_data().measured_files():
        print("compat coverage: no data; run the tests under coverage run first", file=sys.stderr)
        return 1
    document = figures(cov)
    path = result("compat-coverage.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    totals = document["totals"]
    for module in document["modules"]:
        if module["missing_lines"] or module["missing_branches"]:
            arcs = " ".join(f"{a}->{b if b > 0 else 'exit'}" for a, b in module["missing_branches"])
            print(f"{module['path']}: lines {module['missing_lines']} branches {arcs}")
    print(
        f"compat coverage: {totals['percent_statements']}% of statements, "
        f"{totals['percent_branches']}% of branches over the whole run; the differential "
        f"suite alone ran {totals['percent_differential_statements']}% of the statements: {path}"
    )
    complete = not (totals["missing_lines"] or totals["missing_branches"])
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
