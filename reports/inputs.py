"""Read the result files of one run, tolerating missing or malformed ones."""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

from . import schema

__all__ = ["INPUTS", "Input", "load", "read_inputs"]

#: Result files the report reads: name, path relative to the source folder, schema.
INPUTS: dict[str, tuple[str, str]] = {
    "conformance": ("results/conformance.json", schema.CONFORMANCE),
    "surface": ("results/surface.json", schema.SURFACE),
    "autobahn": ("autobahn/summary.json", schema.AUTOBAHN),
    "hypothesis": ("results/hypothesis.json", schema.HYPOTHESIS),
    "bench": ("results/bench.json", schema.BENCH),
    "reliability": ("results/reliability.json", schema.RELIABILITY),
    "reference_coverage": ("results/reference-coverage.json", schema.REFERENCE_COVERAGE),
    "compat_coverage": ("results/compat-coverage.json", schema.COMPAT_COVERAGE),
}


@dataclasses.dataclass(frozen=True)
class Input:
    """One result file: its data when it exists and has the expected schema."""

    name: str
    path: str
    schema: str
    data: dict[str, Any] | None
    error: str | None

    def summary(self) -> dict[str, Any]:
        """What the report records about this input."""
        return {
            "path": self.path,
            "schema": self.schema,
            "present": self.data is not None,
            "error": self.error,
        }


def load(path: pathlib.Path, schema: str) -> tuple[dict[str, Any] | None, str | None]:
    """The data of the result file ``path``, or why it can't be used; both None if it's missing."""
    if not path.exists():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"unreadable: {exc}"
    if not isinstance(data, dict) or data.get("schema") != schema:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        return None, f"expected schema {schema}, found {found}"
    return data, None


def read_input(source: pathlib.Path, name: str) -> Input:
    """Load one result file; a missing file is "not run", a bad one is an error."""
    relative, schema = INPUTS[name]
    data, error = load(source / relative, schema)
    return Input(name, relative, schema, data, error)


def read_inputs(source: pathlib.Path) -> dict[str, Input]:
    """Load every result file under ``source``."""
    return {name: read_input(source, name) for name in INPUTS}
