"""The HTML report renders every result file, offline, with the numbers of the run."""

from __future__ import annotations

import copy
import json
import pathlib
import re
import subprocess
import sys
from typing import Any

from conformance.paths import ROOT
from reports import schema
from reports.model import SCHEMA
from reports.render import render

CATALOGUE = """
[[feature]]
id = "router"
status = "unsupported"
error = "UnsupportedFeature"
alternative = "route from websocket.request.path"
targets = ["compat"]
seed = "websockets.asyncio.router.route() and the router classes."
peer_status = "unsupported: route by path"

[[feature]]
id = "close"
status = "supported"
description = "Closing handshake, close codes and reasons"

[[difference]]
id = "close.reason-wording"
targets = ["picows.websockets"]
scenarios = ["close.*"]
reason = "Close reasons are worded differently"
feature = "close"

[[api]]
name = "websockets.asyncio.router.route"
status = "raises"
feature = "router"

[[uncompared]]
module = "websockets.protocol"
functions = ["Protocol.legacy"]
reason = "fixture: deprecated alias"

[[uncompared]]
module = "websockets.protocol"
functions = ["Protocol.parse"]
statements = [["if x:", "raise Y"]]
branches = [["if s:", "return"]]
reason = "fixture: guards"
"""

SOURCE = "https://github.com/python-websockets/websockets/blob/17.4/src/websockets/"

TARGETS = [
    {"name": "websockets", "root": "websockets", "role": "reference", "version": "17.4"},
    {"name": "compat", "root": "compat", "role": "subject", "version": "0.1.0"},
    {"name": "picows.websockets", "root": "picows.websockets", "role": "peer", "version": "2.3.1"},
]


def run(
    target: str,
    status: schema.RunStatus,
    declared: str | None = None,
    diff: list[str] | None = None,
) -> schema.ConformanceRun:
    """One run of a scenario where ``target`` plays both sides."""
    return {
        "client": target,
        "server": target,
        "target": target,
        "status": status,
        "declared": declared,
        "diff": diff or [],
        "changes": [],
        "trace": {},
        "reference_trace": None,
        "seconds": 0.01,
    }


def scenario(
    ident: str, feature: str, seed: str | None, compat: schema.RunStatus, peer: schema.RunStatus
) -> schema.ConformanceScenario:
    """A scenario with a baseline and one run per other target."""
    return {
        "id": ident,
        "feature": feature,
        "seed": seed,
        "title": f"title of {ident}",
        "sides": "both",
        "runs": [
            run("websockets", "baseline"),
            run("compat", compat, "unsupported.router" if compat == "declared" else None),
            run(
                "picows.websockets",
                peer,
                "close.reason-wording" if peer == "declared" else None,
                diff=["$.close.code: 1000 != 1006"] * (peer != "identical"),
            ),
        ],
    }


def autobahn_run(target: str, mode: str, failed: list[str]) -> dict[str, Any]:
    """An Autobahn run of three cases."""
    cases = {
        case: {
            "behavior": "OK",
            "behaviorClose": "UNCLEAN" if case in failed else "OK",
            "duration": 3,
            "report": f"{mode}/{target}/case_{case.replace('.', '_')}.html",
        }
        for case in ("1.1.1", "1.1.2", "9.1.10")
    }
    return {
        "mode": mode,
        "target": target,
        "runner": "kosoku",
        "total": 3,
        "counts": {
            "OK": 3 - len(failed),
            "NON-STRICT": 0,
            "INFORMATIONAL": 0,
            "UNIMPLEMENTED": 0,
            "FAILED": len(failed),
        },
        "failed": failed,
        "excluded": {"12.1.1": "compression cases excluded"},
        "seconds": 12.5,
        "index": f"{mode}/{target}/index.json",
        "cases": cases,
    }


def write_json(path: pathlib.Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def write_fixtures(root: pathlib.Path) -> pathlib.Path:
    """Write small result files of every kind under ``root``; return the catalogue path."""
    root.mkdir(parents=True, exist_ok=True)
    catalogue = root / "catalogue.toml"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    write_json(
        root / "results" / "conformance.json",
        {
            "schema": "compat-conformance/1",
            "started": "2026-01-02T03:04:05+00:00",
            "finished": "2026-01-02T03:05:06+00:00",
            "environment": {
                "python": "3.11.7",
                "implementation": "CPython",
                "platform": "Linux-fixture-x86_64",
                "picows": "2.3.1",
                "websockets": "17.4",
                "compat": "0.1.0",
                "git_commit": "abcdef1234567890",
                "date": "2026-01-02",
            },
            "targets": [{**t, "available": True, "error": None} for t in TARGETS],
            "scenarios": [
                scenario("close.normal", "close", None, "identical", "identical"),
                scenario("close.custom-code", "close", None, "identical", "declared"),
                scenario("router.route", "router", "router", "declared", "different"),
                scenario("send.text", "send", None, "identical", "error"),
            ],
            "summary": {
                "compat": {"identical": 9, "declared": 3, "different": 0, "error": 0},
                "picows.websockets": {"identical": 5, "declared": 3, "different": 3, "error": 1},
            },
        },
    )
    write_json(
        root / "results" / "surface.json",
        {
            "schema": "compat-surface/1",
            "entries": [
                {
                    "name": "websockets.asyncio.client.connect",
                    "kind": "function",
                    "status": "compatible",
                    "detail": None,
                },
                {
                    "name": "websockets.asyncio.router.route",
                    "kind": "function",
                    "status": "declared-unsupported",
                    "detail": "raises UnsupportedFeature",
                },
                {
                    "name": "websockets.asyncio.client.process_exception",
                    "kind": "function",
                    "status": "missing",
                    "detail": "not exported",
                },
            ],
            "beyond": {"picows.websockets": ["websockets.asyncio.server.unix_serve"]},
        },
    )
    write_json(
        root / "autobahn" / "summary.json",
        {
            "schema": "compat-autobahn/1",
            "runs": [
                autobahn_run("compat", "client", []),
                autobahn_run("compat", "server", []),
                autobahn_run("picows.websockets", "client", ["9.1.10"]),
                {
                    **autobahn_run("picows.websockets", "server", []),
                    "cases": {},
                    "total": 0,
                    "error": "no report: index.json missing",
                },
                autobahn_run("websockets", "client", ["9.1.10"]),
            ],
        },
    )
    (root / "autobahn" / "client" / "compat").mkdir(parents=True)
    (root / "autobahn" / "client" / "compat" / "index.html").write_text("<p>index</p>")
    write_json(
        root / "results" / "hypothesis.json",
        {
            "schema": "compat-hypothesis/1",
            "profile": "ci",
            "properties": [
                {
                    "name": "roundtrip_text",
                    "feature": "close",
                    "title": "Text messages round-trip",
                    "target": "compat",
                    "examples": 1234,
                    "failures": 0,
                    "counterexample": None,
                    "seconds": 4.5,
                },
                {
                    "name": "roundtrip_binary",
                    "target": "picows.websockets",
                    "examples": 567,
                    "failures": 1,
                    "counterexample": "b'\\x00' * 70000",
                    "seconds": 2.25,
                },
            ],
        },
    )
    write_json(
        root / "results" / "bench.json",
        {
            "schema": "compat-bench/1",
            "machine": {"cpu": "fixture cpu", "cores": 2},
            "rounds": 7,
            "settings": {"duration": 0.5, "connections": 8},
            "unavailable": {"picows.websockets": "ImportError: fixture"},
            "cases": [
                {
                    "case": "echo-64B",
                    "group": "throughput",
                    "loop": "uvloop",
                    "unit": "msg/s",
                    "higher_is_better": True,
                    "errors": {"websockets-legacy": "TimeoutError: fixture"},
                    "results": {
                        "websockets": {
                            "median": 20000.0,
                            "min": 19000.0,
                            "max": 21000.0,
                            "samples": [1],
                        },
                        "compat": {
                            "median": 50000.0,
                            "min": 48000.0,
                            "max": 52000.0,
                            "samples": [1],
                        },
                        "picows": {
                            "median": 62500.0,
                            "min": 60000.0,
                            "max": 65000.0,
                            "samples": [1],
                        },
                    },
                },
                {
                    "case": "latency-rtt",
                    "group": "latency",
                    "loop": "asyncio",
                    "unit": "µs",
                    "higher_is_better": False,
                    "results": {
                        "websockets": {
                            "median": 90.0,
                            "min": 80.0,
                            "max": 100.0,
                            "samples": [1, 2],
                        },
                        "compat": {"median": 45.0, "min": 40.0, "max": 50.0, "samples": [1, 2]},
                    },
                },
            ],
        },
    )
    write_json(
        root / "results" / "reliability.json",
        {
            "schema": "compat-reliability/2",
            "variant": "quick",
            "targets": {
                "compat": {
                    "role": "subject",
                    "problems": ["fixture problem C"],
                    "load": {"connections": 321, "messages": 98765},
                    "integrity": {"corrupted": 0},
                    "leaks": {
                        "fds": 0,
                        "tasks": 0,
                        "problems": ["fixture leak A", "fixture leak B"],
                    },
                },
            },
        },
    )
    write_json(
        root / "results" / "reference-coverage.json",
        {
            "schema": "compat-reference-coverage/1",
            "started": "2026-01-02T03:04:05+00:00",
            "finished": "2026-01-02T03:05:06+00:00",
            "targets": ["websockets", "compat", "picows.websockets"],
            "planned_runs": 12,
            "websockets": "17.4",
            "coverage": "7.6.0",
            "runs": 12,
            "scenarios": ["close.normal", "send.text"],
            "modules": [
                {
                    "module": "websockets.protocol",
                    "path": "protocol.py",
                    "url": SOURCE + "protocol.py",
                    "statements": 12,
                    "executed_lines": [1, 2, 3, 5, 8, 9, 10],
                    "missing_lines": [4, 6, 7, 11, 12],
                    "branches": 8,
                    "missing_branches": [[3, 4], [9, -8], [11, 12]],
                    "percent_statements": 58.33,
                    "percent_branches": 62.5,
                    "percent": 60.0,
                    "uncompared_lines": [11, 12],
                    "uncompared_branches": [[11, 12]],
                    "undeclared_lines": 3,
                    "undeclared_branches": 2,
                    "exercised_by": {"2": [0, 1], "3": [1]},
                },
                {
                    "module": "websockets.uri",
                    "path": "uri.py",
                    "url": SOURCE + "uri.py",
                    "statements": 4,
                    "executed_lines": [1, 2, 3, 4],
                    "missing_lines": [],
                    "branches": 0,
                    "missing_branches": [],
                    "percent_statements": 100.0,
                    "percent_branches": 100.0,
                    "percent": 100.0,
                    "uncompared_lines": [],
                    "uncompared_branches": [],
                    "undeclared_lines": 0,
                    "undeclared_branches": 0,
                    "exercised_by": {"1": [0]},
                },
            ],
            "totals": {
                "statements": 16,
                "missing_lines": 5,
                "branches": 8,
                "missing_branches": 3,
                "undeclared_lines": 3,
                "undeclared_branches": 2,
                "percent_statements": 68.75,
                "percent_branches": 62.5,
                "percent": 66.67,
            },
        },
    )
    write_json(
        root / "results" / "compat-coverage.json",
        {
            "schema": "compat-coverage/1",
            "coverage": "7.6.0",
            "contexts": 3,
            "modules": [
                {
                    "path": "compat/frames.py",
                    "statements": 40,
                    "missing_lines": [17],
                    "branches": 10,
                    "missing_branches": [[16, 17], [20, -19]],
                    "percent_statements": 97.5,
                    "percent_branches": 80.0,
                },
            ],
            "totals": {
                "statements": 40,
                "missing_lines": 1,
                "branches": 10,
                "missing_branches": 2,
                "percent_statements": 97.5,
                "percent_branches": 80.0,
                "differential_statements": 30,
                "percent_differential_statements": 75.0,
            },
        },
    )
    return catalogue


def rendered(tmp_path: pathlib.Path) -> tuple[str, dict[str, Any]]:
    source, output = tmp_path / "in", tmp_path / "out"
    catalogue = write_fixtures(source)
    html = render(source, output, catalogue).read_text(encoding="utf-8")
    data = json.loads((output / "compatibility.json").read_text(encoding="utf-8"))
    return html, data


def test_headline_verdict_per_target(tmp_path: pathlib.Path) -> None:
    html, data = rendered(tmp_path)
    assert (
        "compat: drop-in for 3/4 scenarios, 1 declared differences, 0 undeclared differences"
        in html
    )
    assert (
        "picows.websockets: drop-in for 1/4 scenarios, 1 declared differences, "
        "1 undeclared differences, 1 errors" in html
    )
    headline = {h["target"]: h for h in data["headline"]}
    assert set(headline) == {"compat", "picows.websockets"}
    assert headline["compat"]["ok"] is True
    assert headline["picows.websockets"]["ok"] is False
    assert headline["compat"]["autobahn_failed"] == {"client": 0, "server": 0}
    assert headline["picows.websockets"]["autobahn_failed"] == {"client": 1, "server": 0}
    assert headline["picows.websockets"]["autobahn_broken"] == ["server"]
    assert headline["picows.websockets"]["autobahn_regressions"] == {"client": [], "server": []}
    assert "; Autobahn: 1 failed cases, 0 not failed by websockets" in html
    assert "0 undeclared differences; Autobahn: no failed case" in html  # compat
    assert "server: run broken" in html
    assert headline["compat"]["conformance"]["runs"]["identical"] == 9


def test_features_link_scenarios(tmp_path: pathlib.Path) -> None:
    html, data = rendered(tmp_path)
    features = {f["id"]: f for f in data["features"]}
    assert features["router"]["scenarios"] == ["router.route"]
    assert features["router"]["results"] == {
        "websockets": {"status": "baseline", "counts": {"baseline": 1}},
        "compat": {"status": "declared", "counts": {"declared": 1}},
        "picows.websockets": {"status": "different", "counts": {"different": 1}},
    }
    assert features["close"]["results"]["picows.websockets"] == {
        "status": "declared",
        "counts": {"identical": 1, "declared": 1},
    }
    assert features["close"]["scenarios"] == ["close.normal", "close.custom-code"]
    assert features["close"]["differences"][0]["id"] == "close.reason-wording"
    assert data["differences"] == [
        {
            "id": "close.reason-wording",
            "targets": ["picows.websockets"],
            "scenarios": ["close.*"],
            "reason": "Close reasons are worded differently",
            "feature": "close",
            "used_by": ["close.custom-code"],
            "excused": {"runs": 1, "examples": 0},
        }
    ]
    assert "websockets.asyncio.router.route() and the router classes." in html
    assert features["router"]["peer_status"] == "unsupported: route by path"
    assert "picows.websockets, as documented" in html and "unsupported: route by path" in html
    assert 'href="#scenario-router.route"' in html
    assert "route from websocket.request.path" in html
    assert "$.close.code: 1000 != 1006" in html


def test_every_section_shows_its_numbers(tmp_path: pathlib.Path) -> None:
    html, _ = rendered(tmp_path)
    for text in [
        "websockets.asyncio.client.process_exception",  # surface
        "websockets.asyncio.server.unix_serve",  # beyond the peer
        "roundtrip_text",
        "1234",
        "567",
        "b&#39;\\x00&#39; * 70000",  # hypothesis
        ">2.50\u00d7<",  # bench: compat vs websockets, 50000 / 20000
        ">0.80\u00d7<",  # bench: compat vs picows, 50000 / 62500
        ">2.00\u00d7<",  # latency: 90 / 45, lower is better
        "321",
        "98765",
        "Variant <code>quick</code>",
        "fixture leak A; fixture leak B",
        "fixture problem C",
        "Linux-fixture-x86_64",
        "abcdef1234567890",
        "17.4",
        "2.3.1",  # environment
        "compression cases excluded",
        "picows.websockets not measured:</strong> ImportError: fixture",
        "websockets-legacy failed: <code>TimeoutError: fixture</code>",
        "connections <code>8</code>",
        "12.50 s",  # autobahn
    ]:
        assert text in html, text
    assert "Not run." not in html


def test_properties_show_their_feature_and_title(tmp_path: pathlib.Path) -> None:
    """A property's feature and title (its registry entry) are shown beside its name; a record
    without them shows the name alone."""
    html, data = rendered(tmp_path)
    text, binary = data["hypothesis"]["properties"]
    assert (text["feature"], text["title"]) == ("close", "Text messages round-trip")
    assert (binary["feature"], binary["title"]) == (None, None)
    row = html[html.index("<code>roundtrip_text</code>") :]
    row = row[: row.index("</tr>")]
    assert '<div class="sub">Text messages round-trip</div>' in row
    assert 'feature <a href="#feature-close">close</a>' in row
    row = html[html.index("<code>roundtrip_binary</code>") :]
    assert '<div class="sub">' not in row[: row.index("</tr>")]


def test_autobahn_cells_link_case_reports(tmp_path: pathlib.Path) -> None:
    html, data = rendered(tmp_path)
    run = data["autobahn"]["runs"][2]
    assert [case["id"] for case in run["cases"]] == ["1.1.1", "1.1.2", "9.1.10"]
    assert 'href="../in/autobahn/client/picows.websockets/case_9_1_10.html"' in html
    assert run["cases"][2]["failed"] is True  # behaviorClose UNCLEAN fails the case
    assert html.count('class="cell ab-failed"') == 3  # 9.1.10 of two runs, and the legend
    assert 'href="../in/autobahn/client/compat/index.html"' in html
    assert 'href="../in/autobahn/client/picows.websockets/index.json"' in html
    assert "Run broken:</strong> no report: index.json missing" in html


def test_reference_coverage_links_uncovered_lines(tmp_path: pathlib.Path) -> None:
    html, data = rendered(tmp_path)
    coverage = data["reference_coverage"]
    assert coverage["scenarios"] == 2 and coverage["runs"] == 12
    protocol, uri = coverage["modules"]
    assert (protocol["missing_lines"], protocol["missing_branches"]) == (5, 3)
    assert [(r["first"], r["last"], r["declared"]) for r in protocol["ranges"]] == [
        (4, 4, False),
        (6, 7, False),
        (11, 12, True),
    ]
    assert protocol["ranges"][1]["url"] == SOURCE + "protocol.py#L6-L7"
    assert [b["declared"] for b in protocol["branches_missed"]] == [False, False, True]
    assert uri["ranges"] == [] and uri["branches_missed"] == []
    assert coverage["uncompared"] == [
        {
            "module": "websockets.protocol",
            "functions": ["Protocol.legacy"],
            "statements": [],
            "branches": [],
            "reason": "fixture: deprecated alias",
        },
        {
            "module": "websockets.protocol",
            "functions": ["Protocol.parse"],
            "statements": ["if x: / raise Y"],
            "branches": ["if s: → return"],
            "reason": "fixture: guards",
        },
    ]
    assert "<code>if x: / raise Y</code>" in html and "branch <code>if s: → return</code>" in html
    for text in [
        "Totals: 68.75% of 16 statements",
        "12 of 12 planned runs, 2 scenarios",
        f'<a href="{SOURCE}protocol.py#L4">4</a>',
        f'<a href="{SOURCE}protocol.py#L6-L7">6\u20137</a>',
        f'<a href="{SOURCE}protocol.py#L11-L12" class="decl" title="declared uncompared">',
        f'<a href="{SOURCE}protocol.py#L9">9\u2192exit</a>',
        ">58.33%<",
        ">3 / 2<",
        "3 ranges, 3 branches",
        "fixture: deprecated alias",
    ]:
        assert text in html, text


def test_no_external_resources(tmp_path: pathlib.Path) -> None:
    html, _ = rendered(tmp_path)
    assert not re.findall(r"""src\s*=\s*["'](?:https?:)?//""", html)
    links = re.findall(r"""href\s*=\s*["']([^"']*)["']""", html)
    assert links
    # Only anchors to the released reference source, which nothing loads, leave the page.
    external = [link for link in links if re.match(r"(?i)(https?:)?//", link)]
    assert external and all(link.startswith(SOURCE) for link in external)
    assert "<link" not in html
    assert not re.search(r"<script[^>]+src", html)


def test_compat_coverage_shows_totals_share_and_misses(tmp_path: pathlib.Path) -> None:
    html, data = rendered(tmp_path)
    assert data["compat_coverage"]["totals"]["percent_differential_statements"] == 75.0
    assert "alone (conformance scenarios and properties, compared with websockets) ran" in html
    assert "<code>compat/frames.py</code> lines 17, branches 16→17 20→exit." in html


def test_json_schema(tmp_path: pathlib.Path) -> None:
    _, data = rendered(tmp_path)
    assert data["schema"] == SCHEMA == "compat-report/2"
    assert set(data) == {
        "schema",
        "generated",
        "inputs",
        "environment",
        "conformance_run",
        "targets",
        "subject",
        "catalogue_targets",
        "headline",
        "catalogue_error",
        "features",
        "differences",
        "unsupported_apis",
        "scenarios",
        "surface",
        "autobahn",
        "hypothesis",
        "bench",
        "reliability",
        "reference_coverage",
        "compat_coverage",
        "comparison",
    }
    assert all(i["present"] for i in data["inputs"].values())


def test_subject_is_named(tmp_path: pathlib.Path) -> None:
    html, data = rendered(tmp_path)
    assert data["subject"] == "compat"
    assert data["catalogue_targets"] == ["compat", "picows.websockets"]
    assert "subject <code>compat</code>" in html
    assert "The catalogue declares nothing for" not in html


def test_another_subject_is_named_and_has_no_declarations(tmp_path: pathlib.Path) -> None:
    """A root the catalogue never names, run as the subject in compat's place."""
    source = tmp_path / "in"
    catalogue = write_fixtures(source)
    conformance = json.loads((source / "results" / "conformance.json").read_text())
    conformance["targets"][1] |= {"name": "mylib", "root": "mylib"}
    for case in conformance["scenarios"]:
        for entry in case["runs"]:
            if entry["target"] == "compat":
                entry.update(client="mylib", server="mylib", target="mylib")
    write_json(source / "results" / "conformance.json", conformance)
    surface = json.loads((source / "results" / "surface.json").read_text())
    write_json(source / "results" / "surface.json", {**surface, "root": "mylib"})
    html = render(source, tmp_path / "out", catalogue).read_text(encoding="utf-8")
    data = json.loads((tmp_path / "out" / "compatibility.json").read_text(encoding="utf-8"))
    assert data["subject"] == "mylib"
    assert [(h["target"], h["role"]) for h in data["headline"]] == [
        ("mylib", "subject"),
        ("picows.websockets", "peer"),
    ]
    assert data["surface"]["root"] == "mylib"
    assert "subject <code>mylib</code>" in html
    assert "The catalogue declares nothing for <strong>mylib</strong>" in html
    assert "websockets names checked in <code>mylib</code>" in html


def test_missing_results_say_not_run(tmp_path: pathlib.Path) -> None:
    html = render(tmp_path / "empty", tmp_path / "out", tmp_path / "none.toml").read_text()
    data = json.loads((tmp_path / "out" / "compatibility.json").read_text())
    assert html.count("Not run.") == 11  # every section
    assert "Catalogue unavailable: none.toml not found" in html
    assert data["headline"] == [] and data["scenarios"] == []
    assert data["bench"] is None and data["autobahn"] is None


def test_wrong_schema_is_reported(tmp_path: pathlib.Path) -> None:
    write_json(tmp_path / "results" / "bench.json", {"schema": "compat-bench/0", "cases": []})
    html = render(tmp_path, tmp_path, tmp_path / "none.toml").read_text()
    data = json.loads((tmp_path / "compatibility.json").read_text())
    assert data["bench"] is None
    assert (
        data["inputs"]["bench"]["error"] == "expected schema compat-bench/1, found compat-bench/0"
    )
    assert "expected schema compat-bench/1, found compat-bench/0" in html


def test_bench_speedups(tmp_path: pathlib.Path) -> None:
    _, data = rendered(tmp_path)
    throughput, latency = data["bench"]["cases"]
    assert throughput["results"]["compat"]["vs_websockets"] == 2.5
    assert throughput["results"]["compat"]["vs_picows"] == 0.8
    assert throughput["results"]["websockets"]["vs_websockets"] is None
    assert throughput["results"]["picows"]["vs_picows"] is None
    assert latency["results"]["compat"]["vs_websockets"] == 2.0  # lower is better: 90 / 45
    assert latency["results"]["compat"]["vs_picows"] is None  # no raw picows measurement


def test_sparse_results_render(tmp_path: pathlib.Path) -> None:
    sparse: dict[str, dict[str, Any]] = {
        "results/conformance.json": {
            "schema": "compat-conformance/1",
            "targets": [{"name": "compat", "role": "subject"}],
            "scenarios": [{"id": "only.id", "runs": [{"target": "compat", "status": "identical"}]}],
        },
        "results/surface.json": {"schema": "compat-surface/1", "entries": [{"name": "x"}]},
        "autobahn/summary.json": {"schema": "compat-autobahn/1", "runs": [{"target": "compat"}]},
        "results/hypothesis.json": {"schema": "compat-hypothesis/1", "properties": [{}]},
        "results/bench.json": {"schema": "compat-bench/1", "cases": [{"case": "c"}]},
        "results/reliability.json": {
            "schema": "compat-reliability/2",
            "targets": {"compat": {"load": {"connections": 1}}},
        },
        "results/reference-coverage.json": {
            "schema": "compat-reference-coverage/1",
            "modules": [{"module": "websockets.uri", "missing_lines": [3]}],
        },
        "results/compat-coverage.json": {
            "schema": "compat-coverage/1",
            "modules": [{"path": "compat/uri.py", "missing_branches": [[3, -2]]}],
        },
    }
    for path, data in sparse.items():
        write_json(tmp_path / path, data)
    html = render(tmp_path, tmp_path, tmp_path / "none.toml").read_text()
    assert "compat: drop-in for 1/1 scenarios, 0 declared differences" in html
    assert html.count("Not run.") == 2  # the catalogue and the environment


def test_comparison_with_an_earlier_run(tmp_path: pathlib.Path) -> None:
    """With ``previous``, the page lists what got worse since that run, as ``reports diff``."""
    _, data = rendered(tmp_path)
    assert data["comparison"] is None
    earlier = copy.deepcopy(data)
    for scenario in earlier["scenarios"]:
        for result in scenario["results"].values():
            if result["status"] == "declared":
                result.update(status="identical", declared=[])
    old = tmp_path / "old.json"
    old.write_text(json.dumps(earlier), encoding="utf-8")
    html = render(tmp_path / "in", tmp_path / "again", tmp_path / "in" / "catalogue.toml", old)
    compared = json.loads(html.with_name("compatibility.json").read_text(encoding="utf-8"))
    found = compared["comparison"]["regressions"]
    assert found and all(line.startswith(("scenario:", "declared:")) for line in found)
    assert compared["comparison"]["previous"] == str(old)
    page = html.read_text(encoding="utf-8")
    assert "Compared with an earlier run" in page and found[0] in page.replace("&gt;", ">")
    old.write_text(json.dumps(data), encoding="utf-8")
    html = render(tmp_path / "in", tmp_path / "again", tmp_path / "in" / "catalogue.toml", old)
    assert "no regression" in html.read_text(encoding="utf-8")


def test_markdown_helpers_import_without_the_renderer() -> None:
    code = "import sys, reports.markdown; assert 'jinja2' not in sys.modules, sorted(sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
