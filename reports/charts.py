"""Inline SVG charts, generated in Python so the report needs no chart library."""

from __future__ import annotations

from html import escape
from typing import Any

from markupsafe import Markup

__all__ = ["bench_chart", "cost_chart", "stacked_bar"]

#: Colors shared with the stylesheet's status classes.
COLORS = {
    "identical": "#1a7f37",
    "declared": "#3b6fd8",
    "different": "#c62828",
    "error": "#8a4b00",
    "websockets": "#6e7781",
    "picows": "#8250df",
    "compat": "#1a7f37",
}
DEFAULT_COLOR = "#bc4c00"


def number(value: float) -> str:
    """A compact human-readable number."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def stacked_bar(counts: dict[str, int], width: int = 320, height: int = 14) -> Markup:
    """One horizontal bar split by status, for a headline card."""
    total = sum(counts.values())
    parts = [
        f'<svg class="stack" viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(summary(counts))}">'
    ]
    if total == 0:
        parts.append(f'<rect width="{width}" height="{height}" fill="#d0d7de"/>')
    x = 0.0
    for status, count in counts.items():
        if not count:
            continue
        w = width * count / total
        color = COLORS.get(status, DEFAULT_COLOR)
        parts.append(
            f'<rect x="{x:.1f}" width="{w:.1f}" height="{height}" fill="{color}">'
            f"<title>{escape(status)}: {count}</title></rect>"
        )
        x += w
    parts.append("</svg>")
    return Markup("".join(parts))


def summary(counts: dict[str, int]) -> str:
    """Text equivalent of a stacked bar."""
    return ", ".join(f"{count} {status}" for status, count in counts.items())


def bench_chart(case: dict[str, Any], width: int = 600) -> Markup:
    """Horizontal bars of one benchmark case's medians, one per target."""
    rows = [(t, r) for t, r in case["results"].items() if r.get("median") is not None]
    label_w, value_w, row_h = 140, 120, 26
    bar_w = width - label_w - value_w
    height = row_h * max(len(rows), 1) + 6
    top = max((r["median"] for _, r in rows), default=0) or 1
    unit = escape(str(case.get("unit") or ""))
    parts = [
        f'<svg class="bench" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(str(case.get("case")))}: median per target">'
    ]
    for i, (target, result) in enumerate(rows):
        y = 3 + i * row_h
        w = max(bar_w * result["median"] / top, 1)
        value = f"{number(result['median'])} {unit}"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="label">'
            f"{escape(target)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" rx="3" '
            f'fill="{COLORS.get(target, DEFAULT_COLOR)}"><title>{escape(target)}: {value}</title>'
            f'</rect><text x="{label_w + w + 6:.1f}" y="{y + 16}" class="value">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def cost_chart(case: dict[str, Any], width: int = 600) -> Markup:
    """Stacked bars of one benchmark case's CPU time per message: client, then server."""
    rows = [
        (target, result["cost"]["cpu_us_per_msg"])
        for target, result in case["results"].items()
        if "cpu_us_per_msg" in result["cost"]
    ]
    label_w, value_w, row_h = 140, 120, 26
    bar_w = width - label_w - value_w

    def median(sides: dict[str, Any], side: str) -> float:
        return float((sides.get(side) or {}).get("median") or 0)

    totals = [median(sides, "client") + median(sides, "server") for _, sides in rows]
    top = max(totals, default=0) or 1
    height = row_h * max(len(rows), 1) + 6
    parts = [
        f'<svg class="bench" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(str(case.get("case")))}: CPU time per message, client and server">'
    ]
    for i, ((target, sides), total) in enumerate(zip(rows, totals, strict=True)):
        y, x = 3 + i * row_h, float(label_w)
        color = COLORS.get(target, DEFAULT_COLOR)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" class="label">'
            f"{escape(target)}</text>"
        )
        for side, opacity in (("client", 1.0), ("server", 0.45)):
            w = bar_w * median(sides, side) / top
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                f'fill="{color}" fill-opacity="{opacity}"><title>{escape(target)} {side}: '
                f"{number(median(sides, side))} \u00b5s/msg</title></rect>"
            )
            x += w
        parts.append(
            f'<text x="{x + 6:.1f}" y="{y + 16}" class="value">{number(total)} \u00b5s/msg</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
