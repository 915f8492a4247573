"""Where result files go: ``reports/out/results``, or the folder ``$CONFORMANCE_RESULTS`` names.

``python -m conformance`` sets the variable so that a run on another implementation fills its
own folder, which its report then reads alone, and leaves the default folder as it was. A pytest
session sets it to a scratch folder unless its caller did (``conformance/scratch.py``): only the
runs that produce the report's results, such as ``tox -e conformance``, name the default folder.
"""

from __future__ import annotations

import os
import pathlib

__all__ = ["DEFAULT", "RESULTS_ENV", "ROOT", "result"]

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "reports" / "out" / "results"
RESULTS_ENV = "CONFORMANCE_RESULTS"


def result(name: str) -> pathlib.Path:
    """The path of the result file ``name`` in this process's results folder."""
    folder = os.environ.get(RESULTS_ENV)
    return (pathlib.Path(folder) if folder else DEFAULT) / name
