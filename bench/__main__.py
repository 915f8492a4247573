"""Command line: ``python -m bench [--quick] [--rounds N] [--targets ...] [--cases ...]``."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import loops
from .cases import CASES, Settings
from .runner import Config, run, write
from .table import format_table
from .targets import TARGETS

DEFAULT_OUTPUT = Path("reports/out/results/bench.json")

FULL = Settings(duration=0.5, connections=1000)
QUICK = Settings(duration=0.2, connections=250)


def parse(argv: list[str] | None = None) -> tuple[Config, Path]:
    """Turn command line arguments into a configuration and an output path."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark websockets-style targets against picows."
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 rounds, shorter measurements, fewer connections"
    )
    parser.add_argument("--rounds", type=int, help="rounds per case (default 5, --quick 2)")
    parser.add_argument("--duration", type=float, help="seconds of messages per measurement")
    parser.add_argument("--connections", type=int, help="connections in concurrency and memory")
    parser.add_argument(
        "--targets",
        nargs="+",
        default=list(TARGETS),
        metavar="TARGET",
        help=f"{', '.join(TARGETS)} (default: all), or any module root exposing the "
        "websockets asyncio API",
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        default=[],
        metavar="PATTERN",
        help="case names or glob patterns, e.g. 'client-*' (default: all); "
        f"one of: {', '.join(sorted({case.name for case in CASES}))}",
    )
    parser.add_argument(
        "--loop", nargs="+", choices=loops.LOOPS, default=list(loops.LOOPS), dest="loops"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="results JSON")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    settings = Settings(
        duration=args.duration or base.duration,
        connections=args.connections or base.connections,
        exchanges=base.exchanges,
    )
    rounds = args.rounds or (2 if args.quick else 5)
    if rounds < 1:
        parser.error("--rounds must be at least 1")
    config = Config(
        rounds=rounds, settings=settings, targets=args.targets, cases=args.cases, loops=args.loops
    )
    return config, args.output


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks, write the JSON results and print the table."""
    config, output = parse(argv)
    document = run(config)
    write(document, output)
    print(format_table(document))
    for target, reason in document["unavailable"].items():
        print(f"{target} unavailable: {reason}")
    print(f"results written to {output}")


if __name__ == "__main__":
    main()
