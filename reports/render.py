"""Render one run's results into a self-contained HTML file and a JSON file."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import jinja2
from markupsafe import Markup

from . import charts, diff
from .catalogue import DEFAULT as DEFAULT_CATALOGUE
from .catalogue import read_catalogue
from .inputs import read_inputs
from .model import STATUSES, build

__all__ = ["HTML", "JSON", "OUT", "render"]

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "out"
HTML = "compatibility.html"
JSON = "compatibility.json"
DASH = "\u2013"


def environment() -> jinja2.Environment:
    """Jinja environment for the report template."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = lambda value: DASH if value is None else f"{value:.2f} s"
    env.filters["ratio"] = lambda value: DASH if value is None else f"{value:.2f}\u00d7"
    env.filters["number"] = lambda value: DASH if value is None else charts.number(value)
    env.filters["percent"] = lambda value: DASH if value is None else f"{value:.2f}%"
    env.filters["count"] = lambda value: DASH if value is None else str(value)
    env.globals.update(
        stacked_bar=charts.stacked_bar,
        bench_chart=charts.bench_chart,
        cost_chart=charts.cost_chart,
        statuses=STATUSES,
    )
    return env


def static(name: str) -> Markup:
    """An asset inlined into the page, so the file works offline and standalone."""
    return Markup((HERE / "static" / name).read_text(encoding="utf-8"))


def render_html(report: dict[str, Any]) -> str:
    """The HTML page for a report built by :func:`reports.model.build`."""
    template = environment().get_template("report.html.j2")
    return template.render(report=report, css=static("report.css"), js=static("report.js"))


def render(
    source: pathlib.Path = OUT,
    output: pathlib.Path | None = None,
    catalogue: pathlib.Path = DEFAULT_CATALOGUE,
    previous: pathlib.Path | None = None,
) -> pathlib.Path:
    """Render the results under ``source`` into ``output``; return the HTML path.

    ``source`` holds ``results/*.json`` and ``autobahn/summary.json``; missing
    files are reported as not run. ``output`` defaults to ``source``. With ``previous``, the
    ``compatibility.json`` of an earlier run, the report lists what got worse since.
    """
    output = source if output is None else output
    output.mkdir(parents=True, exist_ok=True)
    entries, catalogue_error = read_catalogue(catalogue)
    report = build(read_inputs(source), entries, catalogue_error, source, output)
    report["comparison"] = None
    if previous is not None:
        earlier = diff.load(previous)
        report["comparison"] = {
            "previous": str(previous),
            "generated": earlier.get("generated"),
            "regressions": [str(found) for found in diff.regressions(earlier, report)],
        }
    (output / JSON).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    html_path = output / HTML
    html_path.write_text(render_html(report), encoding="utf-8")
    return html_path
