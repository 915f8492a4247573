"""Shared pieces of the reliability suite: sizes, resources and figures.

Figures (load, integrity, leaks) are recorded per target while the tests run and written to
``reports/out/results/reliability.json`` at the end of the session. The faults, hostile inputs
and security checks are scenarios (``conformance/scenarios/faults.py``, ``hostile.py``,
``security.py``), compared with the reference like any other; they use the resource helpers
here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import json
import logging
import os
import pathlib
import resource
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from reports import schema

from ..paths import result
from ..scenario import handling
from ..targets import Target

__all__ = [
    "FIGURES",
    "MIB",
    "RESULTS",
    "SIZES",
    "VARIANT",
    "Logs",
    "capture",
    "expect",
    "open_fds",
    "raise_fd_limit",
    "record",
    "rss",
    "section",
    "settle",
    "write",
]

VARIANT = "full" if os.environ.get("COMPAT_RELIABILITY") == "full" else "ci"
RESULTS = result("reliability.json")
MIB = 1 << 20


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much each check does in one variant."""

    connections: int
    messages: int
    integrity_connections: int
    cycles: int


SIZES = {
    "ci": Sizes(connections=1_000, messages=50_000, integrity_connections=100, cycles=1_000),
    "full": Sizes(
        connections=10_000, messages=1_000_000, integrity_connections=100, cycles=10_000
    ),
}[VARIANT]

# Per target: {"role": ..., "load": {}, "integrity": {}, "leaks": {}, "problems": []}.
FIGURES: dict[str, dict[str, Any]] = {}


def rss(pid: int | None = None) -> int:
    """Resident set size of a process (this one by default), in bytes."""
    return int(psutil.Process(pid).memory_info().rss)


def open_fds() -> int:
    """File descriptors open in this process."""
    return int(psutil.Process().num_fds())


def raise_fd_limit(wanted: int) -> int:
    """Raise the soft file-descriptor limit towards ``wanted`` (capped by the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


class _NoSlowCallbackReports(logging.Filter):
    """Drop asyncio debug mode's reports of slow callbacks.

    Accepting thousands of connections at once makes some callbacks slower than asyncio's
    100 ms threshold by design; no test here measures latency, and the reports would bury the
    figures the suite prints.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith("Executing %s took"))


def quiet_slow_callbacks() -> None:
    """Install the filter on asyncio's logger, once per process."""
    logger = logging.getLogger("asyncio")
    if not any(isinstance(existing, _NoSlowCallbackReports) for existing in logger.filters):
        logger.addFilter(_NoSlowCallbackReports())


def settle() -> None:
    """Collect garbage so that finalisers run before resources are counted."""
    for _ in range(3):
        gc.collect()


def section(target: Target) -> dict[str, Any]:
    """The figures of ``target``, created empty on first use."""
    return FIGURES.setdefault(
        target.name,
        {"role": target.role, "load": {}, "integrity": {}, "leaks": {}, "problems": []},
    )


def record(target: Target, kind: str, figures: dict[str, Any]) -> None:
    """Merge ``figures`` into the ``kind`` section (load, integrity, leaks) of ``target``."""
    section(target)[kind].update(figures)


def expect(target: Target, problems: list[str]) -> None:
    """Record ``problems`` and fail on them unless ``target`` is a peer."""
    if not problems:
        return
    section(target)["problems"].extend(problems)
    if target.role != "peer":
        pytest.fail(f"{target.name}: " + "; ".join(problems), pytrace=False)


class Logs(logging.Handler):
    """Every log record at or above ``level`` while installed on the root logger."""

    def __init__(self, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def errors(self) -> list[str]:
        """Errors logged so far, with the exception class of their traceback."""
        return [
            f"{record.name}: {record.getMessage()}"
            + (f" ({record.exc_info[0].__name__})" if record.exc_info and record.exc_info[0]
               else "")
            for record in self.records
            if record.levelno >= logging.ERROR
        ]

    def texts(self) -> Iterator[str]:
        """The formatted message, arguments and traceback of every record."""
        formatter = logging.Formatter()
        for record in self.records:
            try:
                yield formatter.format(record)
            except Exception:  # a record whose exc_info can't be formatted
                yield record.getMessage()
            yield repr(record.args)


@contextlib.contextmanager
def capture(level: int = logging.WARNING) -> Iterator[Logs]:
    """Collect the records logged at ``level`` and above inside the block."""
    with handling(Logs(level), logging.getLogger(), level) as handler:
        yield handler


def write(path: pathlib.Path = RESULTS) -> None:
    """Write the recorded figures as ``compat-reliability/2`` JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document: schema.ReliabilityDocument = {
        "schema": schema.RELIABILITY, "variant": VARIANT, "targets": FIGURES
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
