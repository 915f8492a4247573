"""Ids of the reliability checks, under which the catalogue declares differences.

A check's outcome is compared with the reference's under the id
``reliability.<kind>.<name>``; ``catalogue.toml`` may name these ids in a
``[[difference]]``'s ``scenarios``.
"""

from __future__ import annotations

__all__ = ["ids"]


def ids() -> list[str]:
    """Every fault, hostile input and security check id."""
    from . import test_faults, test_hostile, test_security
    from .harness import check_name

    return [
        *(f"reliability.faults.{check_name(fault)}" for fault in test_faults.FAULTS),
        *(f"reliability.hostile.{name}" for name in test_hostile.NAMES),
        *(f"reliability.security.{check_name(check)}" for check in test_security.CHECKS),
    ]
