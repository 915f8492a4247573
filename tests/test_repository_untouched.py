"""Tests leave the repository as they found it.

A pytest session writes its result files into a scratch folder (``conformance/scratch.py``)
unless its caller names the results folder, as the runs that produce the report's results do:
``tox -e conformance``, ``fuzz`` and ``reliability`` name ``reports/out/results``. Tests that
build or install the checkout work on a copy of it (``tests/checkout.py``).
"""

from __future__ import annotations

import configparser
import json
import os
import pathlib
import subprocess
import sys

import pytest

from conformance import plugin, refcoverage, scratch, surface
from conformance.paths import RESULTS_ENV
from conformance.reliability import harness
from fuzz.hypothesis import differential
from tests import checkout

SESSION_TIMEOUT = 600.0
#: A small session with a writer of each kind: a scenario, a Hypothesis property and a
#: reliability check.
SESSION = [
    "--targets",
    "compat",
    "-k",
    "close.client-closes-1000 or test_connect_keywords or test_load",
    "conformance/test_conformance.py",
    "fuzz/hypothesis/test_seed.py",
    "conformance/reliability/test_load.py",
]
RESULT_FILES = {"conformance.json", "hypothesis.json", "reliability.json"}
#: tox environments whose pytest session writes the report's results.
REPORT_RUNS = ("conformance", "fuzz", "reliability")
REPORT_RESULTS = "{toxinidir}/reports/out/results"


def test_this_session_writes_its_results_outside_the_repository() -> None:
    folder = pathlib.Path(os.environ[RESULTS_ENV])
    for path in (
        plugin.RESULTS,
        refcoverage.RESULTS,
        surface.RESULTS,
        harness.RESULTS,
        differential.RESULTS_PATH,
    ):
        assert path.parent == folder, path
    if scratch.CHOSEN is not None:
        assert folder == scratch.CHOSEN
        assert not folder.is_relative_to(checkout.ROOT), folder


def test_only_the_report_runs_name_the_results_folder() -> None:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(checkout.ROOT / "tox.ini", encoding="utf-8")
    for section in tox.sections():
        setenv = tox[section].get("setenv", "")
        named = [line.strip() for line in setenv.splitlines() if RESULTS_ENV in line]
        expected = [f"{RESULTS_ENV} = {REPORT_RESULTS}"]
        assert named == (expected if section.removeprefix("testenv:") in REPORT_RUNS else []), (
            section
        )


def _session(source: pathlib.Path, env: dict[str, str]) -> str:
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SESSION],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=SESSION_TIMEOUT,
        check=False,
    )
    assert ran.returncode == 0, ran.stdout[-5000:] + ran.stderr[-5000:]
    return ran.stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A copy of the checkout, where a pytest session's writes show."""
    return checkout.copy(tmp_path_factory.mktemp("checkout") / "compat")


def test_a_test_session_leaves_the_checkout_as_it_was(source: pathlib.Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != RESULTS_ENV}
    before = checkout.snapshot(source)
    output = _session(source, env)
    assert checkout.snapshot(source) == before
    named = {
        pathlib.Path(line.removeprefix("results: ")).parent
        for line in output.splitlines()
        if line.startswith("results: ")
    }
    (folder,) = named
    assert folder.parent == scratch.PARENT
    assert {path.name for path in folder.iterdir()} == RESULT_FILES


def test_a_report_run_writes_the_results_the_report_reads(source: pathlib.Path) -> None:
    results = source / "reports" / "out" / "results"
    env = {**os.environ, RESULTS_ENV: str(results)}
    _session(source, env)
    assert {path.name for path in results.iterdir()} == RESULT_FILES
    reported = subprocess.run(
        [sys.executable, "-m", "reports"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=SESSION_TIMEOUT,
        check=False,
    )
    assert reported.returncode == 0, reported.stdout + reported.stderr
    report = json.loads((results.parent / "compatibility.json").read_text(encoding="utf-8"))
    for name in ("conformance", "hypothesis", "reliability"):
        assert report["inputs"][name]["present"], name
