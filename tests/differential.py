"""Run the same call on websockets and on compat and reduce the outcome to comparable data."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import types
from collections.abc import Callable
from typing import Any

REFERENCE, SUBJECT = "websockets", "compat"


def modules(name: str, subject: str | None = None) -> tuple[types.ModuleType, types.ModuleType]:
    """
    Return the module ``name`` (e.g. ``"frames"``) of websockets and the matching module of
    compat: ``subject`` if compat keeps those names elsewhere, else ``name`` too.
    """
    return (
        importlib.import_module(f"{REFERENCE}.{name}"),
        importlib.import_module(f"{SUBJECT}.{subject or name}"),
    )


def plain(value: Any) -> Any:
    """
    Reduce ``value`` to data comparable across libraries: dataclasses and enums by class name
    and content, headers by their items, exceptions by class name, args and str, containers
    element-wise.
    """
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.name, value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {
            field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
        return (type(value).__name__, fields)
    if hasattr(value, "raw_items"):  # Headers
        return (type(value).__name__, list(value.raw_items()))
    if isinstance(value, BaseException):
        return ("raised", type(value).__name__, plain(value.args), str(value))
    if isinstance(value, list | tuple):
        return type(value)(plain(item) for item in value)
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    return value


def outcome(call: Callable[[], Any]) -> Any:
    """Return what ``call()`` returns, or the exception it raises, as :func:`plain` data."""
    try:
        return ("returned", plain(call()))
    except Exception as exc:
        return plain(exc)


def check(name: str, make: Callable[[types.ModuleType], Any], subject: str | None = None) -> Any:
    """
    Run ``make`` on websockets' and on compat's module ``name`` (or ``subject``), assert that the
    outcomes are equal, and return it.
    """
    reference, subject_module = modules(name, subject)
    expected = outcome(lambda: make(reference))
    actual = outcome(lambda: make(subject_module))
    assert actual == expected, f"\ncompat:     {actual!r}\nwebsockets: {expected!r}"
    return expected


def sibling(module: types.ModuleType, name: str) -> types.ModuleType:
    """Return the module ``name`` of the library that ``module`` belongs to."""
    root = module.__name__.split(".")[0]
    return importlib.import_module(f"{root}.{name}")
