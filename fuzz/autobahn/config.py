"""Case selection: Autobahn's own JSON configuration files, and the catalogue's exclusions.

``config/fuzzingclient.json`` and ``config/fuzzingserver.json`` use Autobahn's format: ``cases``,
and ``exclude-cases`` for every target, each explained in ``reasons``, an extra key mapping the
excluded case or glob to why, so that summaries can show it. A target's own exclusions
(Autobahn's ``exclude-agent-cases``) aren't written there: they come from the conformance
catalogue, whose ``[[difference]]`` entries list the cases their cause makes fail as
``autobahn``, for their ``targets``; the reason is the entry's id and reason.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from conformance.catalogue import Catalogue, load

__all__ = [
    "CONFIG_DIR",
    "MODES",
    "ConfigError",
    "Mode",
    "Selection",
    "catalogue_exclusions",
    "load_selection",
]

Mode = Literal["fuzzingclient", "fuzzingserver"]
MODES: tuple[Mode, ...] = ("fuzzingclient", "fuzzingserver")

CONFIG_DIR = Path(__file__).parent / "config"


class ConfigError(ValueError):
    """A configuration file is malformed, an exclusion has no reason, or is declared twice."""


@dataclasses.dataclass(frozen=True)
class Selection:
    """Cases to run for one mode and target: include globs, excluded globs with reasons."""

    cases: tuple[str, ...]
    excluded: dict[str, str]

    def resolve(self, case_ids: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """Split known case ids into those to run and those excluded, with reasons."""
        selected: list[str] = []
        excluded: dict[str, str] = {}
        for case_id in case_ids:
            if not _match(case_id, self.cases):
                continue
            reason = next(
                (why for glob, why in self.excluded.items() if _match(case_id, (glob,))), None
            )
            if reason is None:
                selected.append(case_id)
            else:
                excluded[case_id] = reason
        return selected, excluded


def _match(case_id: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(case_id, glob) for glob in globs)


def _string_list(config: dict[str, Any], key: str, path: Path) -> list[str]:
    value = config.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: {key!r} must be a list of case ids or globs")
    return value


def catalogue_exclusions(target: str, catalogue: Catalogue | None = None) -> dict[str, str]:
    """The Autobahn cases or globs the catalogue excludes for ``target``, each with its reason:
    the id and reason of the ``[[difference]]`` entry listing it."""
    excluded: dict[str, str] = {}
    for difference in (catalogue or load()).differences:
        if target not in difference.targets:
            continue
        for glob in difference.autobahn:
            if glob in excluded:
                raise ConfigError(
                    f"catalogue: Autobahn case {glob} excluded for {target} twice, "
                    f"{excluded[glob].partition(':')[0]} and {difference.id}"
                )
            excluded[glob] = f"{difference.id}: {difference.reason}"
    return excluded


def load_selection(
    mode: Mode,
    target: str,
    cases: Sequence[str] | None = None,
    config_dir: Path = CONFIG_DIR,
    catalogue: Catalogue | None = None,
) -> Selection:
    """Read ``<mode>.json`` and return the selection for ``target``: the file's exclusions,
    then the catalogue's for ``target`` (``catalogue``, by default conformance/catalogue.toml).

    ``cases``, when given, replaces the file's ``cases``; exclusions still apply.
    """
    path = config_dir / f"{mode}.json"
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    if config.get("exclude-agent-cases"):
        raise ConfigError(
            f"{path}: 'exclude-agent-cases' isn't read: a target's exclusions are the "
            "'autobahn' cases of its [[difference]] entries in conformance/catalogue.toml"
        )
    reasons = config.get("reasons", {})
    if not isinstance(reasons, dict):
        raise ConfigError(f"{path}: 'reasons' must be an object")
    excluded_globs = _string_list(config, "exclude-cases", path)
    missing = [glob for glob in excluded_globs if not reasons.get(glob)]
    if missing:
        raise ConfigError(f"{path}: no entry in 'reasons' for excluded {', '.join(missing)}")
    excluded = {glob: str(reasons[glob]) for glob in excluded_globs}
    for glob, reason in catalogue_exclusions(target, catalogue).items():
        excluded.setdefault(glob, reason)
    return Selection(
        cases=tuple(cases) if cases else tuple(_string_list(config, "cases", path)),
        excluded=excluded,
    )
