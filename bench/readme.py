"""The performance table of README.md, generated from a benchmark results document.

``python -m bench.readme`` prints it from ``bench/readme-results.json``, the run README.md shows;
``--write README.md`` replaces the block between the ``bench-table`` markers of that file and
``--check README.md`` fails if the block is out of date. ``--results PATH`` takes another run,
such as the ``reports/out/results/bench.json`` that ``python -m bench`` writes.
"""

from __future__ import annotations

import argparse
import json
import pathlib
from typing import Any

from reports.markdown import add_file_options, emit

from .table import SUBJECT, median, ratio

__all__ = ["BLOCK", "RESULTS", "ROWS", "table"]

BLOCK = "bench-table"
RESULTS = pathlib.Path(__file__).resolve().parent / "readme-results.json"
COMMAND = "python -m bench.readme --write README.md"

#: The cases README.md shows: (case, loop, label).
ROWS = (
    ("client-pipeline-binary-256", "asyncio", "256 B pipelined, compat client"),
    ("server-pipeline-binary-256", "asyncio", "256 B pipelined, compat server"),
    ("client-pingpong-binary-256", "asyncio", "256 B ping-pong, compat client"),
    ("server-pingpong-binary-256", "asyncio", "256 B ping-pong, compat server"),
    ("end-to-end-pipeline-text-8k", "asyncio", "8 KiB text pipelined, end to end"),
    ("client-pipeline-binary-128k", "asyncio", "128 KiB pipelined, compat client"),
    ("server-pipeline-binary-128k", "asyncio", "128 KiB pipelined, compat server"),
    ("end-to-end-pipeline-binary-1m", "asyncio", "1 MiB pipelined, end to end"),
    ("end-to-end-pipeline-binary-16m", "asyncio", "16 MiB pipelined, end to end"),
    ("end-to-end-slow-consumer-binary-1m", "asyncio", "1 MiB to a slow consumer, end to end"),
    ("end-to-end-pipeline-binary-256-wss", "asyncio", "256 B pipelined over TLS, end to end"),
    ("end-to-end-pipeline-binary-64k-wss", "asyncio", "64 KiB pipelined over TLS, end to end"),
    ("end-to-end-pipeline-text-8k-deflate", "asyncio", "8 KiB text, deflate, end to end"),
    ("end-to-end-pingpong-text-256-deflate", "asyncio", "256 B ping-pong, deflate, end to end"),
    ("client-pipeline-binary-256", "uvloop", "256 B pipelined, uvloop, compat client"),
    ("server-pingpong-binary-256", "uvloop", "256 B ping-pong, uvloop, compat server"),
    ("concurrency-connect", "asyncio", "1,000 connections opened, end to end"),
    ("concurrency-echo", "asyncio", "1,000 concurrent connections, echo"),
    ("memory-idle", "asyncio", "memory per idle connection (KiB)"),
)

#: Targets of the ratio columns, as the header names them.
OTHERS = {
    "picows": "raw picows",
    "picows.websockets": "picows.websockets",
    "websockets": "websockets",
}


def _cpu(case: dict[str, Any], target: str) -> dict[str, float] | None:
    """The summary of ``target``'s CPU time per message on the case's side, if measured."""
    result = case["results"].get(target)
    if result is None:
        return None
    summary = result.get("cost", {}).get("cpu_us_per_msg", {}).get(case.get("side", "total"))
    return None if summary is None else summary


def _peak(case: dict[str, Any], target: str) -> float | None:
    """The larger of the two processes' peak RSS in MiB, if measured."""
    result = case["results"].get(target)
    peaks = (result or {}).get("cost", {}).get("peak_rss_mib", {})
    values = [float(peaks[p]["median"]) for p in ("client", "server") if p in peaks]
    return max(values) if values else None


def _figure(value: float) -> str:
    """Three significant figures or more: 13.7, 104, 1,639."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _compat_cell(case: dict[str, Any]) -> str:
    """compat's own figure with its spread over rounds: CPU per message, else the case's unit."""
    cpu = _cpu(case, SUBJECT)
    if cpu is not None:
        return f"{_figure(cpu['median'])} µs ({_figure(cpu['min'])}-{_figure(cpu['max'])})"
    result = case["results"].get(SUBJECT)
    if result is None:
        return "—"
    unit = case["unit"].split(" (")[0]
    spread = f"{_figure(result['min'])}-{_figure(result['max'])}"
    return f"{_figure(result['median'])} {unit} ({spread})"


def _ratio_cell(case: dict[str, Any], other: str) -> str:
    """How far ahead compat is: the other's CPU per message over compat's, then compat's rate
    over the other's; for lower-is-better units, both values."""
    if not case["higher_is_better"]:
        subject, reference = median(case, SUBJECT), median(case, other)
        if subject is None or reference is None:
            return "—"
        return f"{subject:.1f} vs {reference:.1f}"
    rate = ratio(case, other)
    if rate is None:
        return "—"
    mine, theirs = _cpu(case, SUBJECT), _cpu(case, other)
    cells = [f"{theirs['median'] / mine['median']:.2f}"] if mine and theirs else []
    cells.append(f"{rate:.2f}")
    peaks = _peak(case, SUBJECT), _peak(case, other)
    if peaks[0] is not None and peaks[1] is not None:
        cells.append(f"{peaks[0]:.0f} vs {peaks[1]:.0f} MiB")
    return " · ".join(cells)


def table(document: dict[str, Any]) -> str:
    """compat's cost and ratios to the other targets in the README's cases, as Markdown."""
    cases = {(case["case"], case["loop"]): case for case in document["cases"]}
    lines = [
        "| case | compat: CPU per message (min-max) | "
        + " | ".join(f"vs {label}" for label in OTHERS.values())
        + " |",
        "| --- | --- |" + " --- |" * len(OTHERS),
    ]
    for name, loop, label in ROWS:
        case = cases.get((name, loop))
        if case is not None:
            cells = [_compat_cell(case), *(_ratio_cell(case, other) for other in OTHERS)]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    machine = document["machine"]
    lines.append("")
    lines.append(
        "Each \"vs\" cell: the other's CPU time per message divided by compat's, then compat's "
        "throughput divided by the other's — above 1, compat is ahead — and for large messages "
        "the larger peak RSS of the two processes, compat's first. CPU time is that of the side "
        "under test, or of both processes end to end. \"—\": not measured (the raw core has "
        "no recv() or permessage-deflate) or failed in that run; the results file says which."
    )
    lines.append("")
    lines.append(
        f"Medians of {document['rounds']} rounds, {machine['date'][:10]}, {machine['cpu_count']} "
        f"cores, Python {machine['python']}, picows {machine['picows']}, "
        f"websockets {machine['websockets']}."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the table, or write or check the block of a Markdown file."""
    parser = argparse.ArgumentParser(prog="python -m bench.readme", description=__doc__)
    parser.add_argument("--results", type=pathlib.Path, default=RESULTS, metavar="PATH",
                        help=f"results document (default: {RESULTS.name})")
    add_file_options(parser)
    options = parser.parse_args(argv)
    document = json.loads(options.results.read_text(encoding="utf-8"))
    return emit(options, BLOCK, table(document), COMMAND)


if __name__ == "__main__":
    raise SystemExit(main())
