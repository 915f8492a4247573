"""The subject provides websockets' public API, or the catalogue declares what it doesn't.

The subject is compat unless ``--subject`` names another root; the ``[[api]]`` declarations are
compat's, so another root is checked against the whole surface.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from .catalogue import Api, load
from .plugin import state
from .surface import (
    MODULES,
    SCHEMA,
    beyond,
    check_all,
    declarations,
    resolve,
    signature_problems,
    verify_declared,
    walk,
    write,
)
from .targets import SUBJECT

# Declared names include deprecated websockets modules, imported here on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def subject(request: pytest.FixtureRequest) -> str:
    """The root under test: the session's ``--subject``."""
    root: str = request.config.getoption("--subject")
    return root


@pytest.fixture
def peers(request: pytest.FixtureRequest) -> list[str]:
    """The session's peers that import."""
    return [target.root for target in state(request.config).targets
            if target.role == "peer" and target.available]


def test_every_name_is_compatible_or_declared(
    subject: str, peers: list[str], tmp_path: pathlib.Path
) -> None:
    """Writes surface.json, then fails on any name missing or with another signature."""
    entries = check_all(subject)
    ahead = {peer: beyond(entries, peer) for peer in peers}
    write(entries, subject, peers=ahead)
    write(entries, subject, tmp_path / "surface.json", ahead)
    document = json.loads((tmp_path / "surface.json").read_text())
    assert document["schema"] == SCHEMA
    assert document["root"] == subject
    assert document["beyond"] == ahead
    assert {entry["status"] for entry in document["entries"]} <= {
        "compatible", "missing", "signature-mismatch", "declared-unsupported"}
    failures = [f"{e.status}: {e.name}: {e.detail}" for e in entries
                if e.status in ("missing", "signature-mismatch")]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("api", load().apis, ids=lambda api: api.name)
def test_declared_api(api: Api, subject: str) -> None:
    """websockets provides the name; the subject lacks it, raises, or differs, as declared."""
    if api not in declarations(subject):
        pytest.skip(f"the catalogue declares {api.name} for {SUBJECT}, not {subject}")
    assert resolve(api.name) is not None
    assert verify_declared(api, subject) is None


def test_names_beyond_picows_websockets() -> None:
    """What the seed list says picows.websockets lacks, and compat provides, is measured so."""
    pytest.importorskip("picows.websockets.asyncio.server")
    ahead = set(beyond(check_all(SUBJECT), "picows.websockets"))
    assert {
        "websockets.asyncio.server.unix_serve",
        "websockets.asyncio.client.unix_connect",
        "websockets.asyncio.router.route",
        "websockets.asyncio.server.ServerConnection.respond",
        "websockets.extensions.base.ServerExtensionFactory",
    } <= ahead
    assert "websockets.asyncio.client.connect" not in ahead


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
