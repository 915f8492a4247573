"""The compatibility report: every result file of a run rendered into one HTML page."""

from .render import render

__all__ = ["render"]
