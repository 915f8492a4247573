"""Leaks: connect/close cycles and rejected handshakes return to the baseline.

File descriptors and asyncio tasks must come back to exactly their baseline,
RSS must grow by less than 5 MiB, and no ResourceWarning may be emitted. The
event loop runs in debug mode; the ci variant turns it off for the counted
cycles only, which would otherwise take minutes.
"""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

from ..scenario import Pair
from ..scenarios._shapes import echo, hold
from ..targets import Target
from . import harness

WARMUP = 100
RSS_BOUND = 5 * harness.MIB
# Generous: the check is about resources, not speed, on a possibly loaded machine.
OPEN_TIMEOUT = 10.0


async def exchange(pair: Pair, url: str) -> None:
    """One connection: open, one echo, close."""
    async with pair.connect(url, open_timeout=OPEN_TIMEOUT) as ws:
        await ws.send("ping")
        await ws.recv()


async def rejected(pair: Pair, url: str) -> None:
    """One handshake the server rejects with 403."""
    try:
        async with pair.connect(url, origin="https://evil.example", open_timeout=OPEN_TIMEOUT):
            pass
    except pair.client_exc.InvalidStatus as exc:
        assert exc.response.status_code == 403
    else:
        raise AssertionError("the handshake was accepted")


def resources() -> dict[str, int]:
    """Open file descriptors, asyncio tasks other than the current one, and RSS."""
    harness.settle()
    return {
        "fds": harness.open_fds(),
        "tasks": len(asyncio.all_tasks()) - 1,
        "rss": harness.rss(),
    }


async def back_to(baseline: dict[str, int], seconds: float = 3.0) -> dict[str, int]:
    """Resources once fds and tasks are back to ``baseline`` (or after ``seconds``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        now = resources()
        if (now["fds"], now["tasks"]) <= (baseline["fds"], baseline["tasks"]):
            return now
        if loop.time() > deadline:
            return now
        await asyncio.sleep(0.05)


async def test_leaks(target: Target, debug: None) -> None:
    """Cycles of connections and rejected handshakes leak nothing."""
    pair = Pair(target, target)
    cycles = harness.SIZES.cycles
    figures: dict[str, Any] = {"connect_close_cycles": cycles, "rejected_handshakes": cycles}
    with warnings.catch_warnings(record=True) as caught, harness.capture() as logs:
        warnings.simplefilter("always", ResourceWarning)
        async with pair.serve(echo) as url, pair.serve(
            hold, origins=["https://good.example"]
        ) as forbidden:
            for _ in range(WARMUP):
                await exchange(pair, url)
                await rejected(pair, forbidden)
            baseline = await back_to(resources())
            asyncio.get_running_loop().set_debug(harness.VARIANT == "full")
            for _ in range(cycles):
                await exchange(pair, url)
            for _ in range(cycles):
                await rejected(pair, forbidden)
            after = await back_to(baseline)
        harness.settle()
    leaked = [str(warning.message) for warning in caught if warning.category is ResourceWarning]
    figures.update(
        fds_baseline=baseline["fds"], fds_after=after["fds"],
        tasks_baseline=baseline["tasks"], tasks_after=after["tasks"],
        rss_growth_mib=round((after["rss"] - baseline["rss"]) / harness.MIB, 2),
        resource_warnings=len(leaked), errors_logged=len(logs.errors()),
    )
    harness.record(target, "leaks", figures)
    problems = [
        problem
        for problem, failed in [
            (f"{after['fds'] - baseline['fds']} file descriptors leaked",
             after["fds"] != baseline["fds"]),
            (f"{after['tasks'] - baseline['tasks']} tasks leaked",
             after["tasks"] != baseline["tasks"]),
            (f"RSS grew by {figures['rss_growth_mib']} MiB",
             after["rss"] - baseline["rss"] >= RSS_BOUND),
            (f"ResourceWarning: {leaked[:3]}", bool(leaked)),
            (f"errors logged: {logs.errors()[:3]}", bool(logs.errors())),
        ]
        if failed
    ]
    harness.expect(target, problems)
