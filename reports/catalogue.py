"""Read the conformance catalogue: features, declared differences, unsupported API names and
uncompared reference code."""

from __future__ import annotations

import pathlib
import tomllib
from typing import Any

__all__ = ["DEFAULT", "read_catalogue"]

DEFAULT = pathlib.Path(__file__).resolve().parent.parent / "conformance" / "catalogue.toml"

_SECTIONS = {
    "feature": "features",
    "difference": "differences",
    "api": "apis",
    "uncompared": "uncompared",
}


def read_catalogue(path: pathlib.Path) -> tuple[dict[str, list[dict[str, Any]]] | None, str | None]:
    """The catalogue's entries by section, or None and the reason it can't be read.

    The TOML is parsed directly so that the report renders without importing the
    suite; its layout is documented at the top of catalogue.toml.
    """
    try:
        with path.open("rb") as file:
            raw = tomllib.load(file)
    except FileNotFoundError:
        return None, f"{path.name} not found"
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return None, f"{path.name} unreadable: {exc}"
    catalogue = {
        key: [entry for entry in raw.get(section, []) if isinstance(entry, dict)]
        for section, key in _SECTIONS.items()
    }
    _fill_unsupported(catalogue["features"])
    return catalogue, None


def _fill_unsupported(features: list[dict[str, Any]]) -> None:
    """Give unsupported features the error and alternative compat's table holds for them (the
    catalogue doesn't repeat them), when compat is importable."""
    try:
        from compat.exceptions import UNSUPPORTED_FEATURES, UnsupportedFeature
    except ImportError:
        return
    for feature in features:
        unsupported = UNSUPPORTED_FEATURES.get(feature.get("id", ""))
        if feature.get("status") == "unsupported" and unsupported is not None:
            feature["error"] = UnsupportedFeature.__name__
            feature["alternative"] = unsupported.alternative
