"""Command line: render the compatibility report, compare two runs' reports, or merge shards.

``python -m reports`` renders and prints the path of the HTML file (``--compare OLD.json``: with
what got worse since an earlier run); ``python -m reports diff
OLD.json NEW.json`` lists what got worse and exits 1 if anything did; ``python -m reports merge
OUT SHARD...`` merges the result files of the shards of one run into OUT, to render from.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from . import diff, merge
from .catalogue import DEFAULT as DEFAULT_CATALOGUE
from .render import OUT, render


def compare(argv: list[str]) -> int:
    """List the regressions between two ``compatibility.json`` files."""
    parser = argparse.ArgumentParser(prog="python -m reports diff", description=diff.__doc__)
    parser.add_argument("old", type=pathlib.Path, help="compatibility.json of the earlier run")
    parser.add_argument("new", type=pathlib.Path, help="compatibility.json of the later run")
    args = parser.parse_args(argv)
    return diff.main(args.old, args.new)


def combine(argv: list[str]) -> int:
    """Merge the shards' result files into one folder and list the files written."""
    parser = argparse.ArgumentParser(prog="python -m reports merge", description=merge.__doc__)
    parser.add_argument("out", type=pathlib.Path, help="folder to write results/ and autobahn/")
    parser.add_argument(
        "shards",
        type=pathlib.Path,
        nargs="+",
        metavar="SHARD",
        help="a shard's output folder, holding results/ or autobahn/ as reports/out does",
    )
    args = parser.parse_args(argv)
    try:
        written = merge.merge(args.out, args.shards)
    except merge.MergeError as exc:
        print(f"python -m reports merge: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    if not written:
        print("python -m reports merge: no result file in the shards", file=sys.stderr)
    return 0 if written else 1


def main() -> None:
    """Render the report and print the path of the HTML file."""
    if sys.argv[1:2] == ["diff"]:
        raise SystemExit(compare(sys.argv[2:]))
    if sys.argv[1:2] == ["merge"]:
        raise SystemExit(combine(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="python -m reports", description=main.__doc__)
    parser.add_argument(
        "--source",
        type=pathlib.Path,
        default=OUT,
        help="folder holding results/ and autobahn/ (default: reports/out)",
    )
    parser.add_argument(
        "--output",
        type=pathlib.Path,
        default=None,
        help="folder to write the report into (default: the source folder)",
    )
    parser.add_argument(
        "--catalogue",
        type=pathlib.Path,
        default=DEFAULT_CATALOGUE,
        help="conformance catalogue (default: conformance/catalogue.toml)",
    )
    parser.add_argument(
        "--compare",
        type=pathlib.Path,
        default=None,
        metavar="OLD.json",
        help="compatibility.json of an earlier run: the report lists what got worse since",
    )
    args = parser.parse_args()
    print(render(args.source, args.output, args.catalogue, args.compare))


if __name__ == "__main__":
    main()
