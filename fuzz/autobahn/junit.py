"""JUnit XML of Autobahn runs: one test case per Autobahn case, so CI pages list each one.

Each mode and target is a test suite; a case fails when its behaviour or its closing behaviour
failed, with both in the message; its report's path is in the case's output. Excluded cases are
skipped, with the reason they are excluded.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["write_junit"]


def _suite(run: dict[str, Any]) -> ET.Element:
    name = f"autobahn.{run['mode']}.{run['target']}"
    cases: dict[str, dict[str, Any]] = run.get("cases") or {}
    failed = set(run.get("failed") or [])
    excluded: dict[str, str] = run.get("excluded") or {}
    suite = ET.Element(
        "testsuite",
        name=name,
        tests=str(len(cases) + len(excluded)),
        failures=str(len(failed)),
        errors="1" if "error" in run else "0",
        skipped=str(len(excluded)),
        time=str(run.get("seconds", 0)),
    )
    if "error" in run:
        error = ET.SubElement(suite, "testcase", classname=name, name="run")
        ET.SubElement(error, "error", message=str(run["error"]))
    for case_id, case in cases.items():
        element = ET.SubElement(
            suite,
            "testcase",
            classname=name,
            name=case_id,
            time=str((case.get("duration") or 0) / 1000),
        )
        if case_id in failed:
            ET.SubElement(
                element,
                "failure",
                message=f"behavior {case['behavior']}, close {case['behaviorClose']}",
            )
        ET.SubElement(element, "system-out").text = f"report: {case['report']}"
    for case_id, reason in excluded.items():
        element = ET.SubElement(suite, "testcase", classname=name, name=case_id)
        ET.SubElement(element, "skipped", message=f"excluded: {reason}")
    return suite


def write_junit(path: Path, runs: Iterable[dict[str, Any]]) -> None:
    """Write the runs' cases to ``path`` as JUnit XML."""
    suites = ET.Element("testsuites", name="autobahn")
    for run in runs:
        suites.append(_suite(run))
    ET.indent(suites)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)
