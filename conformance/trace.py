"""Traces: plain JSON-able data returned by scenarios, compared and rendered."""

from __future__ import annotations

import difflib
import enum
import json
from collections.abc import Awaitable, Mapping
from typing import Any

__all__ = ["compare", "data", "exception", "message", "outcome", "render", "state"]

Trace = Any


def data(value: object) -> Trace:
    """Turn ``value`` into plain comparable data.

    Tuples become lists, int enums (close codes) ints, other enums their name,
    bytes-like values ``"b'...'"``. Use :func:`state` for connection states.
    """
    if isinstance(value, enum.IntEnum):
        return int(value)
    if isinstance(value, enum.Enum):
        return value.name
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return repr(bytes(value))
    if isinstance(value, Mapping):
        return {str(key): data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [data(item) for item in value]
    if isinstance(value, BaseException):
        return exception(value)
    raise TypeError(f"not trace data: {type(value).__name__}: {value!r}")


def state(connection: object) -> str:
    """Name of a connection's state (CONNECTING, OPEN, CLOSING, CLOSED)."""
    return str(getattr(connection, "state").name)  # noqa: B009


def message(value: object) -> Trace:
    """A received message as ``[type, value]`` so str and bytes never look alike."""
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, bytes | bytearray | memoryview):
        return ["bytes", data(value)]
    return [type(value).__name__, data(value)]


def _close(frame: object) -> Trace:
    if frame is None:
        return None
    return {"code": int(getattr(frame, "code")), "reason": getattr(frame, "reason")}  # noqa: B009


def exception(exc: BaseException) -> Trace:
    """An exception as its class name and message, plus close frames if any."""
    result: dict[str, Trace] = {"exception": type(exc).__name__, "str": str(exc)}
    if hasattr(exc, "rcvd_then_sent") and hasattr(exc, "rcvd"):
        result["rcvd"] = _close(exc.rcvd)
        result["sent"] = _close(getattr(exc, "sent", None))
        result["rcvd_then_sent"] = exc.rcvd_then_sent
    response = getattr(exc, "response", None)
    if response is not None and hasattr(response, "status_code"):
        result["status_code"] = int(response.status_code)
    return result


async def outcome(awaitable: Awaitable[object]) -> Trace:
    """Await ``awaitable``: ``{"result": ...}`` or :func:`exception` data."""
    try:
        result = await awaitable
    except Exception as exc:
        return exception(exc)
    if isinstance(result, str | bytes | bytearray | memoryview):
        return {"result": message(result)}
    try:
        return {"result": data(result)}
    except TypeError:
        return {"result": type(result).__name__}


def compare(reference: Trace, actual: Trace, path: str = "$") -> list[str]:
    """Readable differences between two traces, each prefixed with its path."""
    if isinstance(reference, dict) and isinstance(actual, dict):
        differences = []
        for key in [*reference, *(key for key in actual if key not in reference)]:
            if key not in actual:
                differences.append(f"{path}.{key}: missing (reference {reference[key]!r})")
            elif key not in reference:
                differences.append(f"{path}.{key}: unexpected {actual[key]!r}")
            else:
                differences.extend(compare(reference[key], actual[key], f"{path}.{key}"))
        return differences
    if isinstance(reference, list) and isinstance(actual, list):
        differences = []
        for index, (left, right) in enumerate(zip(reference, actual, strict=False)):
            differences.extend(compare(left, right, f"{path}[{index}]"))
        if len(reference) != len(actual):
            differences.append(f"{path}: length {len(reference)} != {len(actual)}")
        return differences
    if type(reference) is not type(actual) or reference != actual:
        return [f"{path}: {reference!r} != {actual!r}"]
    return []


def render(
    reference: Trace, actual: Trace, names: tuple[str, str] = ("reference", "actual")
) -> str:
    """Differences followed by a unified diff of both traces as indented JSON."""
    left = json.dumps(reference, indent=2, sort_keys=True).splitlines()
    right = json.dumps(actual, indent=2, sort_keys=True).splitlines()
    diff = difflib.unified_diff(left, right, names[0], names[1], lineterm="", n=3)
    lines = [*compare(reference, actual), "", *diff]
    return "\n".join(lines)
