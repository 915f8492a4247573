"""The results schema: what each producer writes and the report reads.

Every result file is a JSON document whose ``schema`` field names its format, one of the ids
below. The records of the differential harness's files are typed here: producers build them as
these types and the report reads them as these types, and tests build their fixtures from them,
so that a renamed field fails ``mypy --strict`` and :func:`problems` alike.
"""

# Annotations stay evaluated (no postponed evaluation): TypedDict tells NotRequired fields
# apart only then.
import typing
from typing import Any, Literal, NotRequired, TypedDict

__all__ = [
    "AUTOBAHN",
    "BENCH",
    "COMPAT_COVERAGE",
    "CONFORMANCE",
    "HYPOTHESIS",
    "REFERENCE_COVERAGE",
    "RELIABILITY",
    "REPORT",
    "SURFACE",
    "Change",
    "ConformanceDocument",
    "ConformanceRun",
    "ConformanceScenario",
    "HypothesisDocument",
    "PropertyResult",
    "ReliabilityDocument",
    "problems",
]

CONFORMANCE = "compat-conformance/1"
SURFACE = "compat-surface/1"
AUTOBAHN = "compat-autobahn/1"
HYPOTHESIS = "compat-hypothesis/1"
BENCH = "compat-bench/1"
RELIABILITY = "compat-reliability/2"
REFERENCE_COVERAGE = "compat-reference-coverage/1"
COMPAT_COVERAGE = "compat-coverage/1"
REPORT = "compat-report/2"

RunStatus = Literal["baseline", "identical", "declared", "different", "error"]


class Change(TypedDict):
    """One difference between a trace and the reference's: the path as keys and list indices,
    what kind of difference, and the values (a ``length`` change holds both lengths)."""

    path: list[str | int]
    kind: Literal["value", "missing", "unexpected", "length"]
    reference: NotRequired[Any]
    actual: NotRequired[Any]


class ConformanceRun(TypedDict):
    """One pairing of one scenario; ``raw`` names a raw peer's side."""

    client: str
    server: str
    target: str
    status: RunStatus
    declared: str | None
    diff: list[str]
    changes: list[Change]
    trace: Any
    reference_trace: Any
    seconds: float


class ConformanceScenario(TypedDict):
    id: str
    feature: str
    seed: str | None
    title: str
    sides: Literal["both", "client", "server"]
    runs: list[ConformanceRun]


class ConformanceDocument(TypedDict):
    schema: str
    started: str
    finished: str
    environment: dict[str, Any]
    targets: list[dict[str, Any]]
    scenarios: list[ConformanceScenario]
    summary: dict[str, dict[str, int]]


class PropertyResult(TypedDict):
    """What one Hypothesis property did against one target; ``feature`` and ``title`` are the
    property's registry entry's (``conformance.scenario.PROPERTIES``)."""

    name: str
    feature: str
    title: str
    target: str
    examples: int
    failures: int
    counterexample: str | None
    seconds: float
    excused: dict[str, int]


class HypothesisDocument(TypedDict):
    schema: str
    profile: str
    properties: list[PropertyResult]


class ReliabilityDocument(TypedDict):
    schema: str
    variant: str
    targets: dict[str, dict[str, Any]]


def problems(value: object, kind: type, where: str = "$") -> list[str]:
    """Where ``value`` departs from the record type ``kind``: missing and unknown fields, in
    it and in the records it holds directly or in lists."""
    if not isinstance(value, dict):
        return [f"{where}: not an object"]
    hints = typing.get_type_hints(kind)
    required: frozenset[str] = getattr(kind, "__required_keys__")  # noqa: B009
    found = [f"{where}.{key}: missing" for key in sorted(required - value.keys())]
    found += [f"{where}.{key}: unknown" for key in sorted(value.keys() - hints.keys())]
    for key, hint in hints.items():
        if key in value:
            found += _nested(value[key], hint, f"{where}.{key}")
    return found


def _nested(value: object, hint: Any, where: str) -> list[str]:
    """:func:`problems` of the records ``value`` holds, as ``hint`` types it."""
    if typing.is_typeddict(hint):
        return problems(value, hint, where)
    if typing.get_origin(hint) is list and isinstance(value, list):
        (item,) = typing.get_args(hint)
        return [
            found
            for index, entry in enumerate(value)
            for found in _nested(entry, item, f"{where}[{index}]")
        ]
    return []
