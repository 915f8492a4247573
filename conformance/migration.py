"""The migration table: which websockets features compat supports, and what to use otherwise.

``python -m conformance.migration`` prints it as Markdown, generated from ``catalogue.toml``;
``--write README.md`` replaces the block between the ``migration-table`` markers of that file;
``--check README.md`` fails if the block is out of date. Seed texts written about
picows.websockets apply to compat, which reimplements the same interface, and name it.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from .catalogue import Catalogue, Feature, load

__all__ = ["END", "START", "MarkersMissing", "replace_block", "table"]

START = "<!-- migration-table:start -->"
END = "<!-- migration-table:end -->"
SUBJECT = "compat"
COMMAND = "python -m conformance.migration --write README.md"


class MarkersMissing(ValueError):
    """The file lacks the start or end marker of the migration table."""


def _cell(text: str) -> str:
    """``text`` as one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _what(feature: Feature) -> str:
    text = feature.seed or feature.description or feature.id
    return text.replace("picows.websockets", SUBJECT)


def _status(feature: Feature) -> str:
    if feature.status == "unsupported":
        return f"unsupported: raises `{feature.error}`"
    if feature.status == "difference":
        return "supported, behaves differently"
    return "supported"


def table(catalogue: Catalogue | None = None) -> str:
    """The Markdown table: supported features first, then the others, in catalogue order."""
    catalogue = catalogue or load()
    order = {"supported": 0, "difference": 1, "unsupported": 2}
    features = sorted(catalogue.features, key=lambda feature: order[feature.status])
    lines = ["| Feature | Status | Use instead |", "| --- | --- | --- |"]
    for feature in features:
        instead = feature.alternative or ("—" if feature.status == "supported" else "")
        lines.append(f"| {_cell(_what(feature))} | {_status(feature)} | {_cell(instead)} |")
    return "\n".join(lines) + "\n"


def block(catalogue: Catalogue | None = None) -> str:
    """The table between its markers."""
    return f"{START}\n\n{table(catalogue)}\n{END}"


def replace_block(text: str, catalogue: Catalogue | None = None) -> str:
    """``text`` with everything from the start marker to the end marker regenerated."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise MarkersMissing(f"expected {START} followed by {END}")
    return text[:start] + block(catalogue) + text[end + len(END):]


def main(argv: list[str] | None = None) -> int:
    """Print the table, or write or check the block of a Markdown file."""
    parser = argparse.ArgumentParser(prog="python -m conformance.migration", description=__doc__)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=pathlib.Path, metavar="FILE",
                        help="regenerate the block between the markers of FILE")
    action.add_argument("--check", type=pathlib.Path, metavar="FILE",
                        help="exit 1 if the block of FILE is out of date")
    options = parser.parse_args(argv)
    path = options.write or options.check
    if path is None:
        sys.stdout.write(table())
        return 0
    text = path.read_text(encoding="utf-8")
    try:
        updated = replace_block(text)
    except MarkersMissing as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    if options.check:
        if updated != text:
            print(f"{path}: the migration table is out of date; run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
