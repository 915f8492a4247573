"""A copy of this checkout, for tests that build, install or run it: tests never write into the
repository itself (``tests/test_repository_untouched.py``)."""

from __future__ import annotations

import os
import pathlib
import shutil

__all__ = ["IGNORED", "ROOT", "copy", "snapshot"]

ROOT = pathlib.Path(__file__).resolve().parent.parent

#: What isn't copied, anywhere in the tree: version control, environments, caches, build
#: output and results (all git-ignored).
IGNORED = (
    ".git",
    ".tox",
    ".venv",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "__pycache__",
    "*.egg-info",
    "build",
    "dist",
    "out",
)


def copy(destination: pathlib.Path) -> pathlib.Path:
    """Copy the checkout's sources into ``destination`` (created); return it."""
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
    return destination


def snapshot(root: pathlib.Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` but caches (``__pycache__``, ``.hypothesis``), with its size
    and modification time in nanoseconds, by path relative to ``root``."""
    files: dict[str, tuple[int, int]] = {}
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders if name not in ("__pycache__", ".hypothesis")]
        for name in names:
            path = pathlib.Path(folder, name)
            status = path.lstat()
            files[path.relative_to(root).as_posix()] = (status.st_size, status.st_mtime_ns)
    return files
