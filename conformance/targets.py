"""Targets: module roots exposing the websockets asyncio surface, loaded lazily."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import os
import types
from collections.abc import Iterable
from typing import Literal

__all__ = ["REFERENCE", "SUBJECT", "Role", "Target", "TargetUnavailable", "registry"]

Role = Literal["reference", "subject", "peer"]

REFERENCE = "websockets"
SUBJECT = "compat"
DEFAULT_PEERS = ("picows.websockets",)
PEERS_ENV = "CONFORMANCE_PEERS"

# Modules a target must provide to take part in the suite.
REQUIRED = ("asyncio.client", "asyncio.server", "exceptions")


class TargetUnavailable(RuntimeError):
    """A target's modules could not be imported."""


@dataclasses.dataclass
class Target:
    """A module root playing one role in the differential suite."""

    name: str
    root: str
    role: Role
    _error: str | None = dataclasses.field(default=None, init=False, repr=False)
    _checked: bool = dataclasses.field(default=False, init=False, repr=False)

    def module(self, relative: str) -> types.ModuleType:
        """Import ``<root>.<relative>``; raise :exc:`TargetUnavailable` if impossible."""
        if not self.available:
            raise TargetUnavailable(f"target {self.name} unavailable: {self._error}")
        return importlib.import_module(f"{self.root}.{relative}")

    @property
    def available(self) -> bool:
        """Whether all required modules import."""
        if not self._checked:
            self._checked = True
            for relative in REQUIRED:
                try:
                    importlib.import_module(f"{self.root}.{relative}")
                except Exception as exc:
                    self._error = f"import {self.root}.{relative}: {type(exc).__name__}: {exc}"
                    break
        return self._error is None

    @property
    def error(self) -> str | None:
        """Why the target is unavailable, or None."""
        return None if self.available else self._error

    @property
    def client(self) -> types.ModuleType:
        return self.module("asyncio.client")

    @property
    def server(self) -> types.ModuleType:
        return self.module("asyncio.server")

    @property
    def router(self) -> types.ModuleType:
        return self.module("asyncio.router")

    @property
    def exceptions(self) -> types.ModuleType:
        return self.module("exceptions")

    @property
    def extensions(self) -> types.ModuleType:
        return self.module("extensions.base")

    @property
    def permessage_deflate(self) -> types.ModuleType:
        return self.module("extensions.permessage_deflate")

    @property
    def version(self) -> str | None:
        """Version of the distribution providing the root, if known."""
        top = self.root.split(".")[0]
        try:
            return importlib.metadata.version(top)
        except importlib.metadata.PackageNotFoundError:
            return None

    def describe(self) -> dict[str, object]:
        """Trace data describing the target."""
        return {
            "name": self.name,
            "root": self.root,
            "role": self.role,
            "version": self.version,
            "available": self.available,
            "error": self.error,
        }


def registry(
    extra_peers: Iterable[str] = (),
    only: Iterable[str] | None = None,
    subject: str = SUBJECT,
) -> list[Target]:
    """Reference, subject and peers (defaults, ``extra_peers``, ``$CONFORMANCE_PEERS``).

    ``subject`` is the root whose undeclared differences fail the suite; compat unless another
    root takes its place, and then compat only runs if named as a peer. ``only`` restricts the
    list to the given names; the reference is always kept since every other run is compared
    with it.
    """
    if subject == REFERENCE:
        raise ValueError(f"{REFERENCE} is the reference: it can't be the subject")
    env = [root.strip() for root in os.environ.get(PEERS_ENV, "").split(",") if root.strip()]
    targets = [Target(REFERENCE, REFERENCE, "reference"), Target(subject, subject, "subject")]
    for root in (*DEFAULT_PEERS, *extra_peers, *env):
        if all(target.root != root for target in targets):
            targets.append(Target(root, root, "peer"))
    if only is not None:
        wanted = set(only) | {REFERENCE}
        unknown = wanted - {target.name for target in targets}
        if unknown:
            raise ValueError(f"unknown targets: {', '.join(sorted(unknown))}")
        targets = [target for target in targets if target.name in wanted]
    return targets
