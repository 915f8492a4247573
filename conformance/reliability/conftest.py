"""Fixtures of the reliability suite: one test per target, asyncio debug mode, figures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ..plugin import results_folder, state
from ..targets import Target
from . import harness


def pytest_configure(config: pytest.Config) -> None:
    harness.quiet_slow_callbacks()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        targets = state(metafunc.config).targets
        metafunc.parametrize("target", targets, ids=[target.name for target in targets])


@pytest.fixture(autouse=True)
def available(request: pytest.FixtureRequest) -> None:
    """Skip peers whose modules don't import; fail for the reference and the subject."""
    target: Target | None = request.node.funcargs.get("target")
    if target is None or target.available:
        return
    if target.role == "peer":
        pytest.skip(f"target {target.name} unavailable: {target.error}")
    pytest.fail(f"target {target.name} unavailable: {target.error}", pytrace=False)


@pytest.fixture
async def debug() -> AsyncIterator[None]:
    """Run the test's event loop in asyncio debug mode."""
    loop = asyncio.get_running_loop()
    previous = loop.get_debug()
    loop.set_debug(True)
    try:
        yield
    finally:
        loop.set_debug(previous)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if harness.FIGURES:
        harness.write(results_folder(session.config) / harness.RESULTS.name)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not harness.FIGURES:
        return
    terminalreporter.section(f"reliability ({harness.VARIANT})")
    for name, figures in harness.FIGURES.items():
        terminalreporter.write_line(f"{name} ({figures['role']})")
        for kind in ("load", "integrity", "leaks", "problems"):
            if figures[kind]:
                terminalreporter.write_line(f"  {kind}: {json.dumps(figures[kind])}")
    terminalreporter.write_line(f"results: {harness.RESULTS}")
