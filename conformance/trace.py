"""Traces: plain JSON-able data returned by scenarios, compared and rendered."""

from __future__ import annotations

import dataclasses
import difflib
import enum
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from reports import schema

__all__ = [
    "Change", "Path", "compare", "data", "exception", "message", "outcome", "render", "state"
]

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


Path = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class Change:
    """One difference between two traces: where it is, and both values.

    ``kind`` is ``value`` (both differ), ``missing`` (only the reference has the key),
    ``unexpected`` (only the actual trace has it) or ``length`` (two lists of different
    lengths, whose lengths the values are). An absent side is None.
    """

    path: Path
    kind: Literal["value", "missing", "unexpected", "length"]
    reference: Trace = None
    actual: Trace = None

    @property
    def where(self) -> str:
        """The path written ``$.key[index]``."""
        return written(self.path, lambda index: f"[{index}]")

    @property
    def pattern(self) -> str:
        """:attr:`where` with every list index written ``[*]``, as declarations write paths."""
        return written(self.path, lambda index: "[*]")

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"{self.where}: missing (reference {self.reference!r})"
        if self.kind == "unexpected":
            return f"{self.where}: unexpected {self.actual!r}"
        if self.kind == "length":
            return f"{self.where}: length {self.reference} != {self.actual}"
        return f"{self.where}: {self.reference!r} != {self.actual!r}"

    def document(self) -> schema.Change:
        """The change as results JSON: the path as a list, and the values its kind has."""
        fields: schema.Change = {"path": list(self.path), "kind": self.kind}
        if self.kind != "unexpected":
            fields["reference"] = self.reference
        if self.kind != "missing":
            fields["actual"] = self.actual
        return fields


def written(path: Path, index: Callable[[int], str]) -> str:
    """``path`` as ``$.key`` steps, with each list index written by ``index``."""
    return "$" + "".join(index(part) if isinstance(part, int) else f".{part}" for part in path)


def compare(reference: Trace, actual: Trace, path: Path = ()) -> list[Change]:
    """The differences between two traces, in the reference's order of keys and items."""
    if isinstance(reference, dict) and isinstance(actual, dict):
        changes = []
        for key in [*reference, *(key for key in actual if key not in reference)]:
            if key not in actual:
                changes.append(Change((*path, key), "missing", reference=reference[key]))
            elif key not in reference:
                changes.append(Change((*path, key), "unexpected", actual=actual[key]))
            else:
                changes.extend(compare(reference[key], actual[key], (*path, key)))
        return changes
    if isinstance(reference, list) and isinstance(actual, list):
        changes = []
        for index, (left, right) in enumerate(zip(reference, actual, strict=False)):
            changes.extend(compare(left, right, (*path, index)))
        if len(reference) != len(actual):
            changes.append(Change(path, "length", len(reference), len(actual)))
        return changes
    if type(reference) is not type(actual) or reference != actual:
        return [Change(path, "value", reference, actual)]
    return []


def render(
    reference: Trace, actual: Trace, names: tuple[str, str] = ("reference", "actual")
) -> str:
    """Differences followed by a unified diff of both traces as indented JSON."""
    left = json.dumps(reference, indent=2, sort_keys=True).splitlines()
    right = json.dumps(actual, indent=2, sort_keys=True).splitlines()
    diff = difflib.unified_diff(left, right, names[0], names[1], lineterm="", n=3)
    lines = [*map(str, compare(reference, actual)), "", *diff]
    return "\n".join(lines)
