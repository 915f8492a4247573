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

from .table import RATIOS, SUBJECT, median, ratio

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
    ("end-to-end-pipeline-text-8k", "asyncio", "8 KiB pipelined, end to end"),
    ("client-pipeline-binary-1m", "asyncio", "1 MiB pipelined, compat client"),
    ("end-to-end-pipeline-text-8k-deflate", "asyncio", "8 KiB pipelined with permessage-deflate"),
    ("client-pipeline-binary-256", "uvloop", "256 B pipelined, uvloop, compat client"),
    ("concurrency-connect", "asyncio", "1,000 connections opened, end to end"),
    ("concurrency-echo", "asyncio", "1,000 concurrent connections, echo"),
    ("memory-idle", "asyncio", "memory per idle connection (KiB; lower is better)"),
)


def _cell(case: dict[str, Any], other: str) -> str:
    """The ratio, or for lower-is-better figures both values, which read more plainly."""
    value = ratio(case, other)
    if value is None:
        return "—"
    if not case["higher_is_better"]:
        return f"{median(case, SUBJECT):.1f} vs {median(case, other):.1f}"
    return f"{value:.2f}"


def table(document: dict[str, Any]) -> str:
    """compat's ratios to the other targets in the README's cases, as a Markdown table."""
    cases = {(case["case"], case["loop"]): case for case in document["cases"]}
    others = list(RATIOS)
    lines = [
        "| case | " + " | ".join(f"compat / {'raw picows' if o == 'picows' else o}" for o in others)
        + " |",
        "| --- |" + " --- |" * len(others),
    ]
    for name, loop, label in ROWS:
        case = cases.get((name, loop))
        if case is not None:
            lines.append(f"| {label} | " + " | ".join(_cell(case, o) for o in others) + " |")
    machine = document["machine"]
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
