"""Hypothesis properties: generated frames, handshakes, call sequences and options, differential.

Each property is an entry of the harness's registry, ``conformance.scenario.PROPERTIES``,
registered by ``register_property`` on the test function that measures it.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__ = ["load_all"]


def load_all() -> None:
    """Import every test module of this package, registering its properties."""
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("test_"):
            importlib.import_module(f"{__name__}.{module.name}")
