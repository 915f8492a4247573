"""Every registered scenario on every pairing of the selected targets."""

from __future__ import annotations

import pytest

from . import scenarios
from .plugin import Run, state

scenarios.load_all()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    conformance = state(metafunc.config)
    if "run" in metafunc.fixturenames:
        runs = [item for case in scenarios.registered() for item in conformance.runs(case)]
        metafunc.parametrize("run", runs, ids=[item.id for item in runs])


async def test_scenario(run: Run, request: pytest.FixtureRequest) -> None:
    await state(request.config).execute(run)
