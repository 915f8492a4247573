"""Generated blocks inside hand-written Markdown files, between a pair of HTML comments."""

from __future__ import annotations

import argparse
import pathlib
import sys

__all__ = ["MarkersMissing", "add_file_options", "emit", "markers", "replace_between"]


class MarkersMissing(ValueError):
    """The file lacks the start or end marker of a generated block."""


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of the block called ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_between(text: str, name: str, content: str) -> str:
    """``text`` with the block called ``name`` holding ``content``, markers kept."""
    start_marker, end_marker = markers(name)
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise MarkersMissing(f"expected {start_marker} followed by {end_marker}")
    return f"{text[:start]}{start_marker}\n\n{content}\n{end_marker}{text[end + len(end_marker):]}"


def add_file_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--write FILE`` and ``--check FILE``, mutually exclusive, to a generator's parser."""
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=pathlib.Path, metavar="FILE",
                        help="regenerate the block between the markers of FILE")
    action.add_argument("--check", type=pathlib.Path, metavar="FILE",
                        help="exit 1 if the block of FILE is out of date")


def emit(options: argparse.Namespace, name: str, content: str, command: str) -> int:
    """Print ``content``, or write or check block ``name`` of the file the options name.

    Returns the exit status: 1 when ``--check`` finds the block out of date (``command``
    regenerates it), 2 when the file lacks the markers.
    """
    path: pathlib.Path | None = options.write or options.check
    if path is None:
        sys.stdout.write(content)
        return 0
    text = path.read_text(encoding="utf-8")
    try:
        updated = replace_between(text, name, content)
    except MarkersMissing as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    if options.check:
        if updated != text:
            print(f"{path}: the {name} block is out of date; run {command}", file=sys.stderr)
            return 1
        return 0
    path.write_text(updated, encoding="utf-8")
    return 0
