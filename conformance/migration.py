"""The migration table: which websockets features compat supports, and what to use otherwise.

``python -m conformance.migration`` prints it as Markdown, generated from ``catalogue.toml``;
``--write README.md`` replaces the block between the ``migration-table`` markers of that file;
``--check README.md`` fails if the block is out of date. Each line of the seed list (what
picows.websockets doesn't support) shows picows.websockets' status beside compat's.
"""

from __future__ import annotations

import argparse

from reports.markdown import MarkersMissing, add_file_options, emit, markers, replace_between

from .catalogue import Catalogue, Feature, load

__all__ = ["END", "START", "MarkersMissing", "replace_block", "table"]

BLOCK = "migration-table"
START, END = markers(BLOCK)
SUBJECT = "compat"
COMMAND = "python -m conformance.migration --write README.md"


def _cell(text: str) -> str:
    """``text`` as one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _what(feature: Feature) -> str:
    text = feature.description or feature.seed or feature.id
    return text.replace("picows.websockets", SUBJECT)


def _peer_status(feature: Feature) -> str:
    """picows.websockets' status: as its seed line documents it, else supported like compat.

    compat's own limits outside the seed list aren't picows.websockets' documented status.
    """
    if feature.peer_status is not None:
        return feature.peer_status
    return "supported" if feature.status == "supported" else "—"


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
    lines = [
        "| Feature | compat | picows.websockets | Use instead |",
        "| --- | --- | --- | --- |",
    ]
    for feature in features:
        instead = feature.alternative or ("—" if feature.status == "supported" else "")
        lines.append(
            f"| {_cell(_what(feature))} | {_status(feature)} | {_peer_status(feature)} "
            f"| {_cell(instead)} |"
        )
    return "\n".join(lines) + "\n"


def block(catalogue: Catalogue | None = None) -> str:
    """The table between its markers."""
    return f"{START}\n\n{table(catalogue)}\n{END}"


def replace_block(text: str, catalogue: Catalogue | None = None) -> str:
    """``text`` with everything from the start marker to the end marker regenerated."""
    return replace_between(text, BLOCK, table(catalogue))


def main(argv: list[str] | None = None) -> int:
    """Print the table, or write or check the block of a Markdown file."""
    parser = argparse.ArgumentParser(prog="python -m conformance.migration", description=__doc__)
    add_file_options(parser)
    return emit(parser.parse_args(argv), BLOCK, table(), COMMAND)


if __name__ == "__main__":
    raise SystemExit(main())
