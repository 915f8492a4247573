"""The benchmark harness runs end to end on a tiny configuration and writes its schema."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from bench.__main__ import main
from bench.runner import SCHEMA, rotate
from bench.table import format_table
from bench.targets import RAW, TARGETS

CASE = "client-pingpong-binary-256"


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
    for target in filter(importable, TARGETS):
        result = case["results"][target]
        assert len(result["samples"]) == 1
        assert result["median"] == result["min"] == result["max"] == result["samples"][0] > 0


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
