"""Run the Autobahn TestSuite against targets: ``python -m fuzz.autobahn --help``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from fuzz.autobahn.config import MODES, ConfigError, Mode, load_selection
from fuzz.autobahn.junit import write_junit
from fuzz.autobahn.runner import ROOT, run, runner_name
from fuzz.autobahn.summary import format_line, summarize, write_summary
from reports.progress import Progress

__all__ = ["main"]

DEFAULT_TARGETS = ("websockets", "compat", "picows.websockets")
DEFAULT_OUTDIR = ROOT / "reports" / "out" / "autobahn"


def _known_cases() -> list[str] | None:
    """Every case id kosoku knows, to resolve globs and count cases ahead of a run."""
    try:
        from kosoku.cases import CASES
    except ImportError:
        return None
    return list(CASES)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m fuzz.autobahn",
        description="Run the Autobahn TestSuite against websockets-compatible targets.",
    )
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument(
        "--target", action="append", dest="targets", metavar="ROOT",
        help=f"module root to test (repeatable; default: {', '.join(DEFAULT_TARGETS)})",
    )
    parser.add_argument(
        "--cases", help="comma-separated case ids or globs replacing the config's cases",
    )
    parser.add_argument(
        "--strict-target", action="append", default=[], metavar="ROOT",
        help="exit non-zero if this target fails a case or its run breaks (repeatable)",
    )
    parser.add_argument(
        "--time-limit", type=float, default=1800.0, help="seconds allowed per target and mode",
    )
    parser.add_argument(
        "-p", "--parallelism", type=int, default=2, help="cases run at once, in either mode",
    )
    parser.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR)
    return parser


async def _main(args: argparse.Namespace) -> int:
    modes: Sequence[Mode] = MODES if args.mode == "both" else (args.mode,)
    targets = args.targets or list(DEFAULT_TARGETS)
    cases = [case.strip() for case in args.cases.split(",")] if args.cases else None
    known = _known_cases()
    runner = runner_name()
    status = 0
    for mode in modes:
        for target in targets:
            selection = load_selection(mode, target, cases)
            selected, excluded = (
                selection.resolve(known) if known is not None else ([], selection.excluded)
            )
            total = len(selected) if known is not None else None
            progress = Progress(f"autobahn {mode} {target}", total, "cases")
            outdir = args.outdir / mode / target
            outcome = await run(
                mode, target, selection, outdir,
                runner=runner, time_limit=args.time_limit, parallelism=args.parallelism,
                total=total, progress=progress.update,
            )
            progress.close()
            summary = summarize(
                mode=mode, target=target, runner=runner, outdir=outdir, base=args.outdir,
                seconds=outcome.seconds, excluded=excluded, error=outcome.error,
            )
            runs = write_summary(args.outdir / "summary.json", [summary])
            write_junit(args.outdir / "junit.xml", runs)
            print(format_line(summary), flush=True)
            if target in args.strict_target and (summary["failed"] or "error" in summary):
                status = 1
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, run, and return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except ConfigError as exc:
        parser.error(str(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
