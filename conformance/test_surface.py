"""compat provides websockets' public API, or the catalogue declares what it doesn't."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from .catalogue import Api, load
from .surface import (
    MODULES,
    SCHEMA,
    check_all,
    resolve,
    signature_problems,
    verify_declared,
    walk,
    write,
)

SUBJECT = "compat"

# Declared names include deprecated websockets modules, imported here on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_every_name_is_compatible_or_declared(tmp_path: pathlib.Path) -> None:
    """Writes surface.json, then fails on any name missing or with another signature."""
    entries = check_all(SUBJECT)
    write(entries)
    write(entries, tmp_path / "surface.json")
    document = json.loads((tmp_path / "surface.json").read_text())
    assert document["schema"] == SCHEMA
    assert {entry["status"] for entry in document["entries"]} <= {
        "compatible", "missing", "signature-mismatch", "declared-unsupported"}
    failures = [f"{e.status}: {e.name}: {e.detail}" for e in entries
                if e.status in ("missing", "signature-mismatch")]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("api", load().apis, ids=lambda api: api.name)
def test_declared_api(api: Api) -> None:
    """websockets provides the name; compat lacks it, raises, or differs, as declared."""
    assert resolve(api.name) is not None
    assert verify_declared(api, SUBJECT) is None


def test_walk_reaches_modules_classes_and_members() -> None:
    names = {name for name, _ in walk()}
    assert set(MODULES) <= names
    assert "websockets.asyncio.connection.Connection.recv" in names
    assert "websockets.asyncio.connection.Connection.latency" in names
    assert "websockets.datastructures.Headers.__getitem__" in names
    assert "websockets.frames.Close.__init__" in names


def reference(uri: str, *, timeout: float | None = 10, **kwargs: Any) -> None:
    """A function to compare others with."""


def same(uri: str, *, timeout: float | None = 10, **kwargs: Any) -> None:
    """The same parameters."""


def renamed(url: str, *, timeout: float | None = 10, **kwargs: Any) -> None:
    """The positional parameter renamed."""


def keyword_positional(uri: str, timeout: float | None = 10, **kwargs: Any) -> None:
    """timeout may be passed by position."""


def other_default(uri: str, *, timeout: float | None = None, **kwargs: Any) -> None:
    """Another default."""


def no_kwargs(uri: str, *, timeout: float | None = 10) -> None:
    """No **kwargs."""


def extra_optional(uri: str, *, timeout: float | None = 10, limit: int = 1, **kwargs: Any) -> None:
    """An extra parameter with a default."""


def extra_required(uri: str, *, timeout: float | None = 10, limit: int, **kwargs: Any) -> None:
    """An extra parameter without a default."""


@pytest.mark.parametrize(
    ("subject", "compatible"),
    [(same, True), (extra_optional, True), (renamed, False), (keyword_positional, False),
     (other_default, False), (no_kwargs, False), (extra_required, False)],
)
def test_signature_problems(subject: Any, compatible: bool) -> None:
    assert (signature_problems(reference, subject) == []) is compatible
