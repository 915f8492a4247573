"""Loader for catalogue.toml: features, declared differences, unsupported API names and the
reference code the suite doesn't compare."""

from __future__ import annotations

import dataclasses
import functools
import json
import pathlib
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from compat.exceptions import UNSUPPORTED_FEATURES, UnsupportedFeature

from .trace import Change

__all__ = ["Api", "Catalogue", "Difference", "Feature", "Uncompared", "load"]

PATH = pathlib.Path(__file__).with_name("catalogue.toml")
# Suffix of the id of a scenario's variant running on uvloop rather than asyncio's own loop.
ON_UVLOOP = "@uvloop"
# How many scenario runs, generated examples and reliability checks each declared difference
# excused in this process.
EXCUSED: Counter[str] = Counter()
SEED = pathlib.Path(__file__).with_name("seed.txt")


@dataclasses.dataclass(frozen=True)
class Feature:
    """A capability, possibly a bullet of the seed compatibility list.

    A seed bullet comes with ``peer_status``: what that bullet documents picows.websockets as
    supporting, shown beside compat's ``status``.
    """

    id: str
    status: Literal["supported", "unsupported", "difference"]
    seed: str | None = None
    peer_status: str | None = None
    description: str | None = None
    error: str | None = None
    alternative: str | None = None
    targets: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Difference:
    """A declared behavioural difference of some targets on some scenarios.

    With ``expect`` set, the difference only applies when one of the values that differ
    mentions that string (e.g. the exception class an unsupported feature raises).
    With ``paths`` set, it only applies when every differing trace path matches
    one of them (list indices are written ``[*]``).
    """

    id: str
    targets: tuple[str, ...]
    scenarios: tuple[str, ...]
    reason: str
    feature: str | None = None
    expect: str | None = None
    paths: tuple[str, ...] = ()
    autobahn: tuple[str, ...] = ()  # Autobahn cases excluded for ``targets``

    def applies(
        self, target: str, scenario: str, seed: str | None, changes: Sequence[Change]
    ) -> bool:
        """Whether this difference covers ``changes``, ``target``'s differences on ``scenario``.

        Without scenario globs, it covers the scenarios tagged with its feature. It covers a
        scenario on every event loop its variants run on.
        """
        if target not in self.targets:
            return False
        scenario = scenario.removesuffix(ON_UVLOOP)
        if self.scenarios:
            if not any(matches(pattern, scenario) for pattern in self.scenarios):
                return False
        elif seed is None or seed != self.feature:
            return False
        if self.paths and not all(
            any(matches(path, change.pattern) for path in self.paths) for change in changes
        ):
            return False
        return self.expect is None or any(
            self.expect in json.dumps(change.actual) for change in changes
        )


def matches(pattern: str, text: str) -> bool:
    """Glob match where only ``*`` is special (any run of characters)."""
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), text) is not None


@dataclasses.dataclass(frozen=True)
class Api:
    """A websockets API name that compat provides differently or not at all.

    ``raises``: present, raises UnsupportedFeature when called; ``absent``: not provided;
    ``signature``: present with another signature (internal constructors).
    """

    name: str
    status: Literal["raises", "absent", "signature"]
    feature: str
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class Uncompared:
    """Reference code the differential suite deliberately never runs, and why.

    ``functions`` are qualified names (``Class.method``) in ``module``, one of the reference
    modules whose coverage is measured; their whole definition counts as declared. With
    ``statements``, only the statements of those functions (of the whole module when
    ``functions`` is empty) whose first line reads as given, stripped, count as declared: a
    guard the asyncio layer always pre-empts, say, declared without the code around it. A
    statement given as a pair of texts is the second one inside the first, where its text alone
    would also name others.
    ``branches`` declare single arcs, each from the statement whose first line reads as its
    first text to the one reading as its second (in the same scope): the way past a guard that
    only the Sans-I/O API can take, say, where both statements run on other paths.
    """

    module: str
    reason: str
    functions: tuple[str, ...] = ()
    statements: tuple[str | tuple[str, str], ...] = ()
    branches: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Catalogue:
    """Everything the suite and the report need to explain differences."""

    features: tuple[Feature, ...]
    differences: tuple[Difference, ...]
    apis: tuple[Api, ...]
    uncompared: tuple[Uncompared, ...] = ()

    def feature(self, feature_id: str) -> Feature:
        """The feature with this id."""
        for feature in self.features:
            if feature.id == feature_id:
                return feature
        raise KeyError(feature_id)

    def all_differences(self) -> tuple[Difference, ...]:
        """Declared differences, plus one per unsupported feature for its seed-tagged scenarios."""
        implied = tuple(
            Difference(
                id=f"unsupported.{feature.id}",
                targets=feature.targets,
                scenarios=(),
                reason=f"unsupported; instead, {feature.alternative}",
                feature=feature.id,
                expect=feature.error,
            )
            for feature in self.features
            if feature.status == "unsupported"
        )
        return self.differences + implied

    def declared(
        self, target: str, scenario: str, seed: str | None, changes: Sequence[Change]
    ) -> str | None:
        """Id of the difference declaring ``changes``, ``target``'s on ``scenario``, or None."""
        for difference in self.all_differences():
            if difference.applies(target, scenario, seed, changes):
                EXCUSED[difference.id] += 1
                return difference.id
        return None

    def unused(self, targets: Iterable[str], excused: Mapping[str, int]) -> list[str]:
        """Ids of the differences declared for any of ``targets`` that excused nothing: a
        declaration wider than any cause, or whose cause is gone.

        One that only excludes Autobahn cases (no scenario globs) can't excuse anything in a
        session, and an exclusion is no use (the case never runs): it is left out, unchecked.
        """
        names = set(targets)
        return [
            difference.id
            for difference in self.all_differences()
            if names & set(difference.targets)
            and not excused.get(difference.id)
            and not (difference.autobahn and not difference.scenarios)
        ]


def _tuples(entry: dict[str, Any]) -> dict[str, Any]:
    """TOML arrays as tuples, nested ones included, for frozen dataclasses."""
    return {key: _tuple(value) for key, value in entry.items()}


def _tuple(value: Any) -> Any:
    return tuple(_tuple(item) for item in value) if isinstance(value, list) else value


@functools.cache
def load(path: pathlib.Path = PATH) -> Catalogue:
    """Parse the catalogue."""
    with path.open("rb") as file:
        raw = tomllib.load(file)
    return Catalogue(
        features=tuple(_feature(_tuples(entry)) for entry in raw.get("feature", [])),
        differences=tuple(Difference(**_tuples(entry)) for entry in raw.get("difference", [])),
        apis=tuple(Api(**entry) for entry in raw.get("api", [])),
        uncompared=tuple(Uncompared(**_tuples(entry)) for entry in raw.get("uncompared", [])),
    )


def _feature(entry: dict[str, Any]) -> Feature:
    """A feature; an unsupported one raises compat's UnsupportedFeature, and compat's table of
    unsupported features (by feature id) says what to use instead."""
    if entry.get("status") == "unsupported":
        unsupported = UNSUPPORTED_FEATURES.get(entry["id"])
        entry = {
            **entry,
            "error": UnsupportedFeature.__name__,
            "alternative": None if unsupported is None else unsupported.alternative,
        }
    return Feature(**entry)


def seed_bullets(text: str) -> list[str]:
    """The feature bullets of the seed compatibility list."""
    return [line.strip()[1:].strip() for line in text.splitlines() if line.strip().startswith("•")]
