"""Case selection read from Autobahn's own JSON configuration files.

``config/fuzzingclient.json`` and ``config/fuzzingserver.json`` use Autobahn's format
(``cases``, ``exclude-cases``, ``exclude-agent-cases`` keyed by agent, which is the
target's root here). Every exclusion must be explained in ``reasons``, an extra key
mapping the excluded case or glob to why, so that summaries can show it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

__all__ = ["CONFIG_DIR", "MODES", "ConfigError", "Mode", "Selection", "load_selection"]

Mode = Literal["fuzzingclient", "fuzzingserver"]
MODES: tuple[Mode, ...] = ("fuzzingclient", "fuzzingserver")

CONFIG_DIR = Path(__file__).parent / "config"


class ConfigError(ValueError):
    """A configuration file is malformed or an exclusion has no reason."""


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


def load_selection(
    mode: Mode,
    target: str,
    cases: Sequence[str] | None = None,
    config_dir: Path = CONFIG_DIR,
) -> Selection:
    """Read ``<mode>.json`` and return the selection for ``target``.

    ``cases``, when given, replaces the file's ``cases``; exclusions still apply.
    """
    path = config_dir / f"{mode}.json"
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    per_agent = config.get("exclude-agent-cases", {})
    reasons = config.get("reasons", {})
    if not isinstance(per_agent, dict) or not isinstance(reasons, dict):
        raise ConfigError(f"{path}: 'exclude-agent-cases' and 'reasons' must be objects")
    excluded_globs = _string_list(config, "exclude-cases", path)
    excluded_globs += _string_list(per_agent, target, path)
    missing = [glob for glob in excluded_globs if not reasons.get(glob)]
    if missing:
        raise ConfigError(f"{path}: no entry in 'reasons' for excluded {', '.join(missing)}")
    return Selection(
        cases=tuple(cases) if cases else tuple(_string_list(config, "cases", path)),
        excluded={glob: str(reasons[glob]) for glob in excluded_globs},
    )
