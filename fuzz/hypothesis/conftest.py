"""The Hypothesis profile, the targets under test, the shared harness and the results file.

``HYPOTHESIS_PROFILE=ci`` (default) is deterministic and quick; ``HYPOTHESIS_PROFILE=fuzz`` keeps
generating random examples for ``HYPOTHESIS_FUZZ_SECONDS`` (default 60) per property and target,
remembering failures in ``.hypothesis/``. Both are registered in ``differential``. The profile
applies to these properties only, not to other tests of the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from conformance.plugin import results_folder, state

from . import differential

differential.PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if differential.PROFILE == "fuzz":
    differential.BUDGET = float(os.environ.get("HYPOTHESIS_FUZZ_SECONDS", "60"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every property runs against each target but the reference it is compared with."""
    if "target" in metafunc.fixturenames:
        targets = [t for t in state(metafunc.config).targets if t.role != "reference"]
        metafunc.parametrize("target", targets, ids=[target.name for target in targets])


@pytest.fixture(scope="module")
def harness() -> Iterator[differential.Harness]:
    """One event loop per test module; servers started in it live until the module ends."""
    shared = differential.Harness()
    try:
        yield shared
    finally:
        shared.close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if differential.RESULTS:
        folder = results_folder(session.config)
        differential.write_results(differential.PROFILE, folder / differential.RESULTS_PATH.name)
