"""Scenario modules, one per concern; importing them registers their scenarios.

Scenarios proving a feature of the seed list (what compat supports beyond picows.websockets)
also run on uvloop, as variants whose ids end with ``@uvloop``: each runs in a uvloop event loop
of its own, in a worker thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from ..catalogue import ON_UVLOOP, load
from ..scenario import SCENARIOS, Pair, Scenario

__all__ = ["load_all", "registered"]


def load_all() -> None:
    """Import every scenario module of this package, then register the uvloop variants."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    _register_uvloop_variants()


def registered() -> list[Scenario]:
    """Registered scenarios, in registration order."""
    return list(SCENARIOS.values())


def _register_uvloop_variants() -> None:
    try:
        import uvloop
    except ImportError:  # not on this platform
        return
    seeded = {feature.id for feature in load().features if feature.seed is not None}
    for case in list(SCENARIOS.values()):
        variant = case.id + ON_UVLOOP
        if case.id.endswith(ON_UVLOOP) or variant in SCENARIOS:
            continue
        if case.seed in seeded or case.feature in seeded:
            SCENARIOS[variant] = dataclasses.replace(
                case,
                id=variant,
                function=_on_uvloop(uvloop.run, case.function),
                title=f"{case.title} (uvloop)",
            )


def _on_uvloop(
    run: Callable[[Coroutine[Any, Any, object]], object],
    function: Callable[[Pair], Awaitable[object]],
) -> Callable[[Pair], Awaitable[object]]:
    """``function`` run by ``run`` (uvloop's) in a worker thread."""

    async def on_uvloop(pair: Pair) -> object:
        # Scenario functions are coroutine functions: what they return is a coroutine.
        main = cast("Coroutine[Any, Any, object]", function(pair))
        return await asyncio.to_thread(run, main)

    return on_uvloop
