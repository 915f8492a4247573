"""compat's own coverage figures: misses, totals and the differential suite's share."""

from __future__ import annotations

import importlib.util
import pathlib

import coverage

from conformance.compatcoverage import figures

SOURCE = "def f(x):\n    if x:\n        return 1\n    return 2\n\n\ndef g():\n    return 3\n"


def test_figures_count_misses_and_the_differential_share(tmp_path: pathlib.Path) -> None:
    package = tmp_path / "compat"
    package.mkdir()
    path = package / "module.py"
    path.write_text(SOURCE, encoding="utf-8")
    cov = coverage.Coverage(
        data_file=str(tmp_path / "data"), branch=True, include=[str(path)], config_file=False
    )
    spec = importlib.util.spec_from_file_location("coverage_fixture", path)
    assert spec is not None and spec.loader is not None
    cov.start()
    try:
        cov.switch_context("conformance.test_fixture.test_compared")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.f(True)
        cov.switch_context("tests.test_fixture.test_unit")
        module.g()
    finally:
        cov.stop()
    document = figures(cov)
    [entry] = document["modules"]
    assert entry["path"] == "compat/module.py"
    assert entry["missing_lines"] == [4]
    assert entry["missing_branches"] == [[2, 4]]
    assert document["totals"] == {
        "statements": 6,
        "missing_lines": 1,
        "branches": 2,
        "missing_branches": 1,
        "percent_statements": 83.33,
        "percent_branches": 50.0,
        "differential_statements": 4,  # both definitions, the test and its first return
        "percent_differential_statements": 66.67,
    }
