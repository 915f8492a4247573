"""The migration table is generated from the catalogue, and README.md carries the current one."""

from __future__ import annotations

import pathlib

import pytest

from .catalogue import load
from .migration import COMMAND, END, START, MarkersMissing, block, replace_block, table

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_table_lists_every_feature_once() -> None:
    rows = table().splitlines()[2:]
    features = load().features
    assert len(rows) == len(features)
    for feature in features:
        if feature.alternative is not None:
            assert any(feature.alternative in row for row in rows), feature.id


def test_replace_block_keeps_the_rest() -> None:
    text = f"before\n{START}\nstale\n{END}\nafter\n"
    updated = replace_block(text)
    assert updated.startswith("before\n") and updated.endswith("\nafter\n")
    assert "stale" not in updated and table() in updated
    assert replace_block(updated) == updated


def test_replace_block_needs_both_markers() -> None:
    with pytest.raises(MarkersMissing):
        replace_block(f"{END}\n{START}\n")


def test_readme_table_is_up_to_date() -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else ""
    if START not in text or END not in text:
        pytest.fail(f"README.md needs the {START} and {END} markers, then: {COMMAND}")
    if block() not in text:
        pytest.fail(f"README.md's migration table is out of date; run: {COMMAND}")
