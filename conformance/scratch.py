"""pytest plugin, loaded before ``conformance.plugin`` (``addopts`` in pyproject.toml): a pytest
session writes its result files into a scratch folder unless its caller names the results folder.

Result files go to the folder ``$CONFORMANCE_RESULTS`` names, ``reports/out/results`` without it
(``conformance.paths``). The runs that produce the report's results name it: ``tox -e
conformance``, ``fuzz`` and ``reliability`` set it to ``reports/out/results``, ``python -m
conformance`` to its own output folder. Any other session (``tox -e tests``, a plain ``pytest``)
gets a new folder under the system's temporary folder instead, named in its terminal summary, so
that running tests never changes the results the report reads.

The suite's modules fix their result paths when they are imported, so the variable is set when
this module is, before ``conformance.plugin`` is imported; processes the session starts
(pytest-xdist workers, subprocesses) inherit it. Old scratch folders are removed, the newest
``KEEP`` kept.
"""

from __future__ import annotations

import getpass
import os
import pathlib
import shutil
import tempfile
import time

from .paths import RESULTS_ENV

__all__ = ["CHOSEN", "KEEP", "PARENT", "STALE", "folder"]

#: Scratch folders of earlier sessions always kept, the newest ones.
KEEP = 5
#: Age in seconds past which the others are removed.
STALE = 86_400.0


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


#: Where scratch folders are made.
PARENT = pathlib.Path(tempfile.gettempdir()) / f"conformance-results-of-{_user()}"


def _modified(path: pathlib.Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def folder() -> pathlib.Path:
    """A new scratch folder for this session's results. Earlier ones go once ``KEEP`` newer ones
    exist and a day has passed, so that a session still running keeps its own."""
    PARENT.mkdir(parents=True, exist_ok=True)
    made = pathlib.Path(tempfile.mkdtemp(prefix="session-", dir=PARENT))
    earlier = sorted(
        (path for path in PARENT.iterdir() if path != made), key=_modified, reverse=True
    )
    for stale in earlier[KEEP:]:
        if time.time() - _modified(stale) > STALE:
            shutil.rmtree(stale, ignore_errors=True)
    return made


#: The scratch folder this session chose, or None when its caller named the results folder.
CHOSEN: pathlib.Path | None = None

if not os.environ.get(RESULTS_ENV):
    CHOSEN = folder()
    os.environ[RESULTS_ENV] = str(CHOSEN)
