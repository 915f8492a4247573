"""Every registered scenario on every pairing of the selected targets."""

from __future__ import annotations

import importlib

import pytest

from . import scenarios
from .catalogue import Api, load
from .plugin import Run, state
from .targets import Target, TargetUnavailable

scenarios.load_all()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    conformance = state(metafunc.config)
    if "run" in metafunc.fixturenames:
        runs = [item for case in scenarios.registered() for item in conformance.runs(case)]
        metafunc.parametrize("run", runs, ids=[item.id for item in runs])
    if "subject_api" in metafunc.fixturenames:
        checked = [target for target in conformance.targets if target.role != "peer"]
        cases = [(target, api) for target in checked for api in load().apis]
        metafunc.parametrize(
            "subject_api", cases, ids=[f"{target.name}|{api.name}" for target, api in cases]
        )


async def test_scenario(run: Run, request: pytest.FixtureRequest) -> None:
    await state(request.config).execute(run)


def resolve(name: str) -> object:
    """Import the longest module prefix of ``name``, then get the remaining attributes."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            value = getattr(value, attribute)
        return value
    raise ImportError(name)


def test_api(subject_api: tuple[Target, Api]) -> None:
    """The reference provides the name; the subject raises or lacks it, as declared."""
    target, api = subject_api
    if target.role == "reference":
        assert resolve(api.name) is not None
        return
    if not target.available:
        raise TargetUnavailable(target.error)
    translated = target.root + api.name.removeprefix("websockets")
    if api.status == "absent":
        with pytest.raises((ImportError, AttributeError)):
            resolve(translated)
    else:
        function = resolve(translated)
        unsupported = target.exceptions.UnsupportedFeature
        with pytest.raises(unsupported):
            function("ws://127.0.0.1:9/") if "connect" in api.name else function(None)
