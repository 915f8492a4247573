"""Render a results document as a text table with compat's ratios to the other targets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .targets import TARGETS

__all__ = ["RATIOS", "SUBJECT", "format_table", "median", "ratio"]

SUBJECT = "compat"

#: Ratio columns: compat's median over the named target's median, under a short header.
RATIOS = {"picows": "c/raw", "picows.websockets": "c/pws", "websockets": "c/ws"}

#: How the table names the process (or both) whose cost is the target's, by a case's ``side``.
SIDES = {"client": "client", "server": "server", "total": "client+server"}

#: A figure of a target's result: its median, or ``None`` when not measured.
Figure = Callable[[dict[str, Any]], float | None]


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{suffix}"
    return f"{value:.2f}"


def median(case: dict[str, Any], target: str) -> float | None:
    """The median of ``target`` in ``case``, or ``None`` if it has no result."""
    result = case["results"].get(target)
    return None if result is None else float(result["median"])


def ratio(case: dict[str, Any], other: str) -> float | None:
    """compat's median over ``other``'s in ``case``, or ``None`` if either is missing."""
    return _divide(median(case, SUBJECT), median(case, other))


def _divide(subject: float | None, reference: float | None) -> float | None:
    return None if subject is None or not reference else subject / reference


def _ratio(values: dict[str, float | None], other: str) -> str:
    value = _divide(values.get(SUBJECT), values.get(other))
    return "-" if value is None else f"{value:.2f}"


def _cost(figure: str, side: str) -> Figure:
    """The median of a cost figure, such as ``cpu_us_per_msg``, for one side."""

    def value(result: dict[str, Any]) -> float | None:
        summary = result.get("cost", {}).get(figure, {}).get(side)
        return None if summary is None else float(summary["median"])

    return value


def _figures(case: dict[str, Any]) -> list[tuple[str, Figure]]:
    """The labelled lines of a case: CPU per message, its own unit, system calls, peak memory.

    Only the case's own unit says "lower is better": costs always are.
    """
    measured = {figure for result in case["results"].values() for figure in result.get("cost", {})}
    side = case.get("side", "total")
    unit = case["unit"] + ("" if case["higher_is_better"] else " (lower is better)")
    figures: list[tuple[str, Figure]] = []
    if "cpu_us_per_msg" in measured:
        figures.append((f"CPU µs/msg, {SIDES[side]}", _cost("cpu_us_per_msg", side)))
    figures.append((unit, lambda result: float(result["median"])))
    if "syscalls_per_msg" in measured:
        figures.append((f"syscalls/msg, {SIDES[side]}", _cost("syscalls_per_msg", side)))
    if "peak_rss_mib" in measured:
        figures += [
            (f"peak RSS MiB, {process}", _cost("peak_rss_mib", process))
            for process in ("client", "server")
        ]
    return figures


def _targets(document: dict[str, Any]) -> list[str]:
    """Targets with results: the usual four in their order, then any other root named."""
    measured = [target for case in document["cases"] for target in case["results"]]
    return list(dict.fromkeys([*(t for t in TARGETS if t in measured), *measured]))


def format_table(document: dict[str, Any]) -> str:
    """Medians per target and compat's ratios: one line per figure of each case and loop."""
    targets = _targets(document)
    header = ["case", "loop", "unit", *targets, *RATIOS.values()]
    lines = [header]
    for case in document["cases"]:
        for index, (label, figure) in enumerate(_figures(case)):
            values = {target: figure(result) for target, result in case["results"].items()}
            lines.append(
                [
                    "" if index else case["case"],
                    "" if index else case["loop"],
                    label,
                    *(_number(values.get(target)) for target in targets),
                    *(_ratio(values, other) for other in RATIOS),
                ]
            )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if column < 3 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in lines
    )
