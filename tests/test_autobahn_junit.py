"""JUnit XML of Autobahn runs: every case is a test case; failures and exclusions are marked."""

from __future__ import annotations

import pathlib
import xml.etree.ElementTree as ET

from fuzz.autobahn.junit import write_junit


def test_cases_failures_and_exclusions(tmp_path: pathlib.Path) -> None:
    run = {
        "mode": "fuzzingserver",
        "target": "compat",
        "seconds": 12.5,
        "failed": ["9.3.1"],
        "excluded": {"7.1.2": "two close frames in one segment"},
        "cases": {
            "1.1.1": {"behavior": "OK", "behaviorClose": "OK", "duration": 3, "report": "a.json"},
            "9.3.1": {"behavior": "FAILED", "behaviorClose": "OK", "duration": 2000,
                      "report": "b.json"},
        },
    }
    path = tmp_path / "junit.xml"
    write_junit(path, [run])
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("name"), suite.get("tests"), suite.get("failures"), suite.get("skipped")) == (
        "autobahn.fuzzingserver.compat", "3", "1", "1"
    )
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"1.1.1", "9.3.1", "7.1.2"}
    failure = cases["9.3.1"].find("failure")
    assert failure is not None and failure.get("message") == "behavior FAILED, close OK"
    assert cases["1.1.1"].find("failure") is None
    assert cases["1.1.1"].findtext("system-out") == "report: a.json"
    skipped = cases["7.1.2"].find("skipped")
    assert skipped is not None and "two close frames" in (skipped.get("message") or "")
