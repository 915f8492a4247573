"""The benchmark harness runs end to end on a tiny configuration and writes its schema."""

from __future__ import annotations

import dataclasses
import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from bench import runner
from bench.__main__ import main
from bench.cases import CASES, DEFLATE_WINDOW_BITS, Case
from bench.clients import window_bits
from bench.runner import SCHEMA, rotate
from bench.table import format_table
from bench.targets import RAW, TARGETS
from reports.render import render

CASE = "client-pingpong-binary-256"

#: Cases with TLS, large messages and peak memory, a slow consumer, permessage-deflate.
NEW_CASES = (
    "end-to-end-pipeline-binary-256-wss",
    "end-to-end-pipeline-binary-64k-wss",
    "end-to-end-pipeline-binary-1m",
    "end-to-end-pipeline-binary-16m",
    "end-to-end-slow-consumer-binary-1m",
    "end-to-end-pipeline-text-8k-deflate",
)


def importable(target: str) -> bool:
    try:
        importlib.import_module(target if target == RAW else f"{target}.asyncio.client")
    except ImportError:
        return False
    return True


def test_tiny_run_writes_schema_with_positive_results(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    main(
        [
            "--rounds",
            "1",
            "--duration",
            "0.05",
            "--cases",
            CASE,
            "--loop",
            "asyncio",
            "--output",
            str(output),
        ]
    )
    document = json.loads(output.read_text())
    assert document["schema"] == SCHEMA
    assert document["rounds"] == 1
    assert set(document["machine"]) >= {
        "python",
        "platform",
        "cpu_count",
        "picows",
        "websockets",
        "compat",
        "date",
    }
    [case] = document["cases"]
    assert (case["case"], case["loop"], case["higher_is_better"]) == (CASE, "asyncio", True)
    assert case["group"] == "client"
    assert case["unit"] == "round trips/s"
    assert case["side"] == "client"
    assert set(document["meters"]) == {"cpu", "syscalls", "peak_rss"}
    for target in filter(importable, TARGETS):
        result = case["results"][target]
        assert len(result["samples"]) == 1
        assert result["median"] == result["min"] == result["max"] == result["samples"][0] > 0
        cpu = result["cost"]["cpu_us_per_msg"]
        assert set(cpu) == {"client", "server", "total"}
        assert cpu["total"]["median"] == pytest.approx(
            cpu["client"]["median"] + cpu["server"]["median"], abs=0.01
        )
        assert "peak_rss_mib" not in result["cost"]


def tiny(case: Case) -> Case:
    """The same case with small messages, short batches and pauses."""
    return dataclasses.replace(
        case, size=min(case.size, 2048), batch=min(case.batch, 4), pause=min(case.pause, 0.001)
    )


def test_new_cases_at_tiny_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "CASES", tuple(map(tiny, CASES)))
    output = tmp_path / "results" / "bench.json"
    main(["--rounds", "1", "--duration", "0.05", "--cases", *NEW_CASES, "--output", str(output)])
    document = json.loads(output.read_text())
    meters = document["meters"]
    cases: dict[str, Any] = {case["case"]: case for case in document["cases"]}
    assert set(cases) == set(NEW_CASES)
    targets = list(filter(importable, TARGETS))
    for name, case in cases.items():
        assert case["side"] == "total"
        assert case["config"]["tls"] == name.endswith("-wss")
        assert not case.get("errors"), case["errors"]
        assert set(case["results"]) | set(case.get("unavailable", {})) == set(targets)
        for result in case["results"].values():
            cost = result["cost"]
            assert cost["messages"]["median"] > 0
            assert cost["cpu_ms_per_mib"]["total"]["median"] > 0
            assert ("syscalls_per_msg" in cost) == meters["syscalls"]["available"]
            peak = "-1m" in name or "-16m" in name
            assert ("peak_rss_mib" in cost) == (peak and meters["peak_rss"]["available"])
    deflate = cases["end-to-end-pipeline-text-8k-deflate"]
    assert deflate["config"]["deflate_window_bits"] == DEFLATE_WINDOW_BITS
    assert RAW in deflate["unavailable"]
    assert RAW in cases["end-to-end-slow-consumer-binary-1m"]["unavailable"]
    for extension in deflate["negotiated"].values():
        assert window_bits(extension) == (DEFLATE_WINDOW_BITS, DEFLATE_WINDOW_BITS)
    assert "CPU µs/msg, client+server" in format_table(document)

    html = render(tmp_path, tmp_path / "report", tmp_path / "none.toml").read_text()
    report = json.loads((tmp_path / "report" / "compatibility.json").read_text())
    shown = {case["case"]: case for case in report["bench"]["cases"]}
    assert shown["end-to-end-pipeline-binary-16m"]["cost_figures"][:2] == [
        "cpu_us_per_msg",
        "cpu_ms_per_mib",
    ]
    assert "CPU<br>µs/msg" in html
    assert "Negotiated by " in html
    assert "does not implement permessage-deflate" in html


def test_window_bits_of_an_answer() -> None:
    assert window_bits(None) is None
    assert window_bits("x-other; a=1") is None
    assert window_bits("permessage-deflate") == (15, 15)
    assert window_bits("permessage-deflate; server_max_window_bits = 10") == (10, 15)
    answer = "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
    assert window_bits(answer) == (12, 12)


def test_rounds_rotate_targets() -> None:
    orders = [rotate(TARGETS, index) for index in range(len(TARGETS))]
    assert orders[1] == [*TARGETS[1:], TARGETS[0]]
    assert sorted(order[0] for order in orders) == sorted(TARGETS)
    assert all(sorted(order) == sorted(TARGETS) for order in orders)


def test_table_shows_compat_ratios() -> None:
    def result(median: float) -> dict[str, object]:
        return {"median": median, "min": median, "max": median, "samples": [median]}

    document = {
        "cases": [
            {
                "case": "memory-idle",
                "loop": "asyncio",
                "unit": "KiB/conn",
                "higher_is_better": False,
                "results": {
                    "picows": result(10.0),
                    "compat": result(25.0),
                    "websockets": result(50.0),
                },
            }
        ]
    }
    header, line = format_table(document).splitlines()
    assert header.split()[-3:] == ["c/raw", "c/pws", "c/ws"]
    assert line.split()[-3:] == ["2.50", "-", "0.50"]
    assert "lower is better" in line
