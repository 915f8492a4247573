"""README.md's performance table is generated from the results file it cites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.readme import COMMAND, RESULTS, ROWS, main, table
from reports.markdown import MarkersMissing, replace_between

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_carries_the_table_of_the_cited_run() -> None:
    assert main(["--check", str(README)]) == 0, f"the table is out of date; run {COMMAND}"


def test_table_has_every_row_of_a_full_run() -> None:
    document = json.loads(RESULTS.read_text(encoding="utf-8"))
    rows = table(document).splitlines()
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows[2 : 2 + len(ROWS)]] == [
        label for _, _, label in ROWS
    ]
    assert f"Medians of {document['rounds']} rounds" in rows[-1]


def test_replace_between_keeps_the_rest_and_is_idempotent() -> None:
    text = "before\n<!-- x:start -->\nstale\n<!-- x:end -->\nafter\n"
    updated = replace_between(text, "x", "fresh\n")
    assert updated == "before\n<!-- x:start -->\n\nfresh\n\n<!-- x:end -->\nafter\n"
    assert replace_between(updated, "x", "fresh\n") == updated


def test_missing_markers_are_an_error() -> None:
    with pytest.raises(MarkersMissing):
        replace_between("no markers here", "x", "")
