"""Render a results document as a text table with compat's ratios to the other targets."""

from __future__ import annotations

from typing import Any

from .targets import TARGETS

__all__ = ["RATIOS", "SUBJECT", "format_table", "median", "ratio"]

SUBJECT = "compat"

#: Ratio columns: compat's median over the named target's median, under a short header.
RATIOS = {"picows": "c/raw", "picows.websockets": "c/pws", "websockets": "c/ws"}


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
    subject, reference = median(case, SUBJECT), median(case, other)
    if subject is None or not reference:
        return None
    return subject / reference


def _ratio(case: dict[str, Any], other: str) -> str:
    value = ratio(case, other)
    return "-" if value is None else f"{value:.2f}"


def _targets(document: dict[str, Any]) -> list[str]:
    """Targets with results: the usual four in their order, then any other root named."""
    measured = [target for case in document["cases"] for target in case["results"]]
    return list(dict.fromkeys([*(t for t in TARGETS if t in measured), *measured]))


def format_table(document: dict[str, Any]) -> str:
    """Medians per target and compat's ratios, one line per case and loop."""
    targets = _targets(document)
    header = ["case", "loop", "unit", *targets, *RATIOS.values()]
    lines = [header]
    for case in document["cases"]:
        lines.append(
            [
                case["case"],
                case["loop"],
                case["unit"] + ("" if case["higher_is_better"] else " (lower is better)"),
                *(_number(median(case, target)) for target in targets),
                *(_ratio(case, other) for other in RATIOS),
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
