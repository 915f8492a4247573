"""The one comparison of the harness: a target's trace against the reference's.

Scenarios (reliability faults, hostile input and security defaults among them) and Hypothesis
examples all reach a verdict here: the reference's trace of a check is computed once per process
and kept, each other target's trace is compared with it into structured changes, the catalogue
and the check's requirement are applied, and the policy decides what a difference does: the
subject's undeclared difference fails, a peer's is recorded.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Literal

from . import catalogue, trace
from .targets import REFERENCE, Target

__all__ = ["REFERENCES", "Baseline", "Verdict", "judge", "reference"]

Status = Literal["identical", "declared", "different"]


@dataclasses.dataclass(frozen=True)
class Baseline:
    """The reference's run of a check: its trace, or the error it failed with, and how long
    it took."""

    trace: trace.Trace
    error: str | None
    seconds: float

    def value(self) -> trace.Trace:
        """The trace; a reference that failed fails every comparison with it."""
        if self.error is not None:
            raise RuntimeError(f"reference run failed: {self.error}")
        return self.trace


# The reference's run of every check this process compared, by check id (a scenario id, or a
# property's name and example).
REFERENCES: dict[Hashable, Baseline] = {}


async def reference(check: Hashable, compute: Callable[[], Awaitable[trace.Trace]]) -> Baseline:
    """The reference's run of ``check``: ``compute()`` the first time, kept afterwards."""
    if check not in REFERENCES:
        started = time.monotonic()
        try:
            value = await compute()
        except Exception as exc:
            REFERENCES[check] = Baseline(None, f"{type(exc).__name__}: {exc}", 0.0)
        else:
            REFERENCES[check] = Baseline(value, None, time.monotonic() - started)
    return REFERENCES[check]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """How one target's trace of one check compares with the reference's."""

    check: str
    target: Target
    reference: trace.Trace
    actual: trace.Trace
    changes: tuple[trace.Change, ...]
    declared: str | None
    problems: tuple[str, ...] = ()

    @property
    def status(self) -> Status:
        """``different`` for an undeclared change or a requirement the trace doesn't meet."""
        if self.problems or (self.changes and not self.declared):
            return "different"
        return "declared" if self.changes else "identical"

    @property
    def fails(self) -> bool:
        """Whether the difference fails the run: the subject's, undeclared. A peer's never
        does; it is recorded."""
        return self.status == "different" and self.target.role == "subject"

    def explain(self, title: str | None = None) -> str:
        """The changes and a diff of both traces, under ``title`` (the check id by default)."""
        names = (f"{REFERENCE} (reference)", self.target.name)
        heading = title or f"{self.check}: {self.target.name} differs from the reference"
        unmet = [f"requires: {problem}" for problem in self.problems]
        return "\n".join([heading, *unmet, trace.render(self.reference, self.actual, names)])

    def diff(self) -> list[str]:
        """The unmet requirements, then the changes as lines ``$.path: reference != actual``."""
        return [f"requires: {problem}" for problem in self.problems] + [
            str(change) for change in self.changes
        ]


def judge(
    check: str,
    target: Target,
    expected: trace.Trace,
    actual: trace.Trace,
    seed: str | None = None,
    require: Callable[[trace.Trace], list[str]] | None = None,
) -> Verdict:
    """Compare ``actual``, ``target``'s trace of ``check``, with the reference's ``expected``,
    and apply the catalogue (``seed`` is the seed feature the check proves, if any) and the
    check's requirement, if any."""
    changes = tuple(trace.compare(expected, actual))
    declared = None
    if changes:
        declared = catalogue.load().declared(target.name, check, seed, changes)
    problems = tuple(require(actual)) if require is not None else ()
    return Verdict(check, target, expected, actual, changes, declared, problems)
