"""Differential checks for properties: a loop per module, shared servers, tallies, catalogue."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import pathlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from conformance import runner
from conformance.paths import result
from conformance.scenario import PROPERTIES, LogRecords, Pair, Property
from conformance.targets import Target
from reports import schema

__all__ = [
    "RESULTS",
    "Harness",
    "Mailbox",
    "Tally",
    "logged",
    "profile",
    "short",
    "write_results",
]

T = TypeVar("T")

ROOT = pathlib.Path(__file__).resolve().parents[2]
RESULTS_PATH = result("hypothesis.json")
# Bound on one example (both targets), well above what a passing example takes.
EXAMPLE_TIMEOUT = 15.0
# The Hypothesis profile of the properties, and the seconds each keeps running batches of
# examples (0: one batch); both set by conftest from the environment.
PROFILE = "ci"
BUDGET = 0.0
MAX_BATCHES = 10_000
# Longer messages are traced as their type, length and digest.
SHORT = 64

SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]

# Registered on import, so that a module defining properties imports without the conftest.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=None,
    suppress_health_check=SLOW,
    print_blob=False,
)
settings.register_profile(
    "fuzz",
    max_examples=200,
    database=DirectoryBasedExampleDatabase(str(ROOT / ".hypothesis" / "examples")),
    deadline=None,
    suppress_health_check=SLOW,
    print_blob=True,
)

# Every property run in this process, in order, as written to hypothesis.json.
RESULTS: list[schema.PropertyResult] = []


def short(value: Any) -> Any:
    """``value`` with long strings in traces replaced by their length and digest."""
    if isinstance(value, str) and len(value) > SHORT:
        digest = hashlib.sha1(value.encode(errors="surrogatepass")).hexdigest()[:12]
        return f"<{len(value)} chars {digest}>"
    if isinstance(value, list):
        return [short(item) for item in value]
    if isinstance(value, dict):
        return {key: short(item) for key, item in value.items()}
    return value


# Logged when a future is garbage-collected, at no predictable time: not part of a trace.
UNTIMED = "was never retrieved"


async def logged(awaitable: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """The trace ``awaitable`` returns, with the errors logged meanwhile under ``logged``.

    An error is traced as its exception class, or its message without a traceback.
    """
    records = LogRecords()
    root = logging.getLogger()
    root.addHandler(records)
    try:
        result = await awaitable
    finally:
        root.removeHandler(records)
    errors = [
        logged_error(record)
        for record in records.records
        if record.levelno >= logging.ERROR and UNTIMED not in record.getMessage()
    ]
    return {**result, "logged": errors}


def logged_error(record: logging.LogRecord) -> str:
    if record.exc_info and record.exc_info[0]:
        return record.exc_info[0].__name__
    return record.getMessage()


class Mailbox:
    """Values posted under a key by one task and awaited by another, bounded."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.events: dict[str, asyncio.Event] = {}

    def put(self, key: str, value: Any) -> None:
        self.values[key] = value
        self.events.setdefault(key, asyncio.Event()).set()

    async def get(self, key: str, timeout: float) -> Any:
        """The value posted under ``key``; None if nothing came within ``timeout``."""
        event = self.events.setdefault(key, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await event.wait()
        self.events.pop(key, None)
        return self.values.pop(key, None)


@dataclasses.dataclass
class Tally:
    """What one property did against one target: examples, differences, a counterexample."""

    prop: Property
    target: Target
    examples: int = 0
    failures: int = 0
    counterexample: str | None = None
    started: float = dataclasses.field(default_factory=time.monotonic)
    excused: Counter[str] = dataclasses.field(default_factory=Counter)

    def check(self, scenario: str, reference: Any, actual: Any, example: object) -> None:
        """Compare traces; a difference the catalogue doesn't declare fails the subject.

        A peer's differences are counted, keeping the shortest example, and never fail.
        ``scenario`` is one of the property's registered scenario ids.
        """
        if scenario not in self.prop.scenarios:
            raise ValueError(f"{scenario} is not a scenario id of property {self.prop.id}")
        self.examples += 1
        verdict = runner.judge(scenario, self.target, reference, actual)
        if verdict.declared is not None:
            self.excused[verdict.declared] += 1
        elif verdict.changes:
            self.mismatch(example, verdict.explain())

    def expect(self, condition: bool, example: object, message: str) -> None:
        """Count an example; fail the subject (count a peer's failure) unless ``condition``."""
        self.examples += 1
        if not condition:
            self.mismatch(example, message)

    def mismatch(self, example: object, message: str) -> None:
        shown = repr(example)
        if self.target.role == "subject":
            # Hypothesis replays the shrunk example last, so the last one kept is minimal.
            self.counterexample = shown
            raise AssertionError(f"{self.target.name} differs on {shown}\n{message}")
        self.failures += 1
        if self.counterexample is None or len(shown) < len(self.counterexample):
            self.counterexample = shown

    def result(self) -> schema.PropertyResult:
        return {
            "name": self.prop.id,
            "feature": self.prop.feature,
            "title": self.prop.title,
            "target": self.target.name,
            "examples": self.examples,
            "failures": self.failures,
            "counterexample": self.counterexample,
            "seconds": round(time.monotonic() - self.started, 3),
            "excused": dict(self.excused),
        }


class Harness:
    """An event loop kept across examples, with servers started once and reused."""

    def __init__(self) -> None:
        self.runner = asyncio.Runner()
        self.stack = contextlib.AsyncExitStack()
        self.shared: dict[Hashable, Any] = {}

    def run(self, awaitable: Awaitable[T], timeout: float = EXAMPLE_TIMEOUT) -> T:
        """Run ``awaitable`` on the harness loop, bounded by ``timeout``."""

        async def bounded() -> T:
            async with asyncio.timeout(timeout):
                return await awaitable

        return self.runner.run(bounded())

    async def share(
        self, key: Hashable, start: Callable[[], contextlib.AbstractAsyncContextManager[T]]
    ) -> T:
        """The value of the context ``start()`` entered once for ``key`` and kept open."""
        if key not in self.shared:
            self.shared[key] = await self.stack.enter_async_context(start())
        return self.shared[key]  # type: ignore[no-any-return]

    def reference(self, name: str, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The reference trace of an example, computed once per property."""
        baseline = self.run(runner.reference((name, key), compute))
        return baseline.value()  # type: ignore[no-any-return]

    def measure(self, name: str, target: Target, prop: Callable[[Tally], None]) -> None:
        """Run ``prop`` with a fresh tally and record the result; the subject's failure raises.

        ``name`` is the id of a property registered in ``conformance.scenario.PROPERTIES``.
        ``prop`` runs again (new random examples) until :data:`BUDGET` seconds have passed.
        """
        if name not in PROPERTIES:
            raise KeyError(f"property {name} is not registered (register_property)")
        if not target.available:
            if target.role == "peer":
                pytest.skip(f"target {target.name} unavailable: {target.error}")
            pytest.fail(f"target {target.name} unavailable: {target.error}")
        tally = Tally(PROPERTIES[name], target)
        run = profile()(prop)
        try:
            for _ in range(MAX_BATCHES):
                run(tally)
                if time.monotonic() - tally.started >= BUDGET:
                    break
        except Exception:
            tally.failures = max(tally.failures, 1)
            raise
        finally:
            RESULTS.append(tally.result())

    def close(self) -> None:
        """Stop every shared server, then the loop."""
        try:
            self.runner.run(self.stack.aclose())
        finally:
            self.runner.close()


@contextlib.asynccontextmanager
async def serving(pair: Pair, handler: Callable[..., Any], **kwargs: Any) -> AsyncIterator[str]:
    """A server of ``pair``'s server target, yielding its base URL without the trailing slash."""
    async with pair.serving(handler, **kwargs) as server:
        yield pair.url(server).rstrip("/")


def profile() -> settings:
    """The settings of the selected profile, to decorate a property with."""
    return settings.get_profile(PROFILE)


def write_results(profile: str, path: pathlib.Path = RESULTS_PATH) -> None:
    """Write every recorded property result as ``compat-hypothesis/1`` JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document: schema.HypothesisDocument = {
        "schema": schema.HYPOTHESIS, "profile": profile, "properties": RESULTS
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
