"""Scenario modules, one per concern; importing them registers their scenarios."""

from __future__ import annotations

import importlib
import pkgutil

from ..scenario import SCENARIOS, Scenario

__all__ = ["load_all", "registered"]


def load_all() -> None:
    """Import every scenario module of this package."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def registered() -> list[Scenario]:
    """Registered scenarios, in registration order."""
    return list(SCENARIOS.values())
