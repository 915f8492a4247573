"""Benchmark targets: the raw picows core and the module roots exposing the websockets API."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

__all__ = ["RAW", "TARGETS", "Style", "load_style", "unavailable"]

#: The raw picows core: a WSListener client and server, the limit every target is compared to.
RAW = "picows"

#: Every target, in the order results are printed.
TARGETS = (RAW, "compat", "picows.websockets", "websockets")


@dataclass(frozen=True)
class Style:
    """The asyncio client and server modules of a root exposing the websockets API."""

    client: ModuleType
    server: ModuleType
    exceptions: ModuleType


def load_style(root: str) -> Style:
    """Import ``<root>.asyncio.client``, ``<root>.asyncio.server`` and ``<root>.exceptions``."""
    return Style(
        client=importlib.import_module(f"{root}.asyncio.client"),
        server=importlib.import_module(f"{root}.asyncio.server"),
        exceptions=importlib.import_module(f"{root}.exceptions"),
    )


def unavailable(target: str) -> str | None:
    """Return why ``target`` cannot be imported, or ``None`` if it can."""
    try:
        if target == RAW:
            importlib.import_module("picows")
        else:
            load_style(target)
    except Exception as exc:  # any import failure makes the target unavailable, not the run
        return f"{type(exc).__name__}: {exc}"
    return None
