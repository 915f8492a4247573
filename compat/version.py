"""Version of the compat package, in the shape of ``websockets.version``."""

from __future__ import annotations

__all__ = ["commit", "tag", "version"]

#: Release this package was built as; ``tag`` and ``commit`` match it for a release.
tag = version = commit = "0.1.0"
