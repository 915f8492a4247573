"""API surface: every public name of websockets' asyncio API, required in a target with a
compatible signature unless the catalogue declares it unsupported.

``python -m conformance.surface`` checks compat (or ``--root``), prints the names that aren't
compatible and writes ``reports/out/results/surface.json`` (schema ``compat-surface/1``). The
catalogue's ``[[api]]`` entries are compat's declarations: another root gets none, so each name
it lacks counts as missing.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import importlib
import inspect
import json
import pathlib
import re
import types
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, Literal

from reports import schema

from .catalogue import Api, load
from .paths import result
from .targets import SUBJECT

__all__ = [
    "MODULES",
    "Entry",
    "beyond",
    "check",
    "check_all",
    "declarations",
    "declared",
    "main",
    "resolve",
    "signature_problems",
    "verify_declared",
    "walk",
    "write",
]

SCHEMA = schema.SURFACE
RESULTS = result("surface.json")
REFERENCE = "websockets"

# Modules whose public names (their __all__) make up the surface.
MODULES = (
    "websockets",
    "websockets.asyncio.client",
    "websockets.asyncio.server",
    "websockets.asyncio.connection",
    "websockets.asyncio.router",
    "websockets.exceptions",
    "websockets.datastructures",
    "websockets.extensions",
    "websockets.extensions.base",
    "websockets.extensions.permessage_deflate",
    "websockets.frames",
    "websockets.http11",
    "websockets.protocol",
    "websockets.typing",
    "websockets.uri",
    "websockets.proxy",
)

# Special methods that are part of a class's API (protocols it implements).
PROTOCOL_DUNDERS = frozenset({
    "__aenter__", "__aexit__", "__aiter__", "__await__", "__call__", "__contains__",
    "__delitem__", "__enter__", "__exit__", "__getitem__", "__iter__", "__len__", "__setitem__",
})

# Documented attributes websockets sets on instances rather than on the class.
INSTANCE_ATTRIBUTES = {
    "websockets.asyncio.connection.Connection": ("id", "logger", "latency", "request", "response"),
    "websockets.asyncio.server.ServerConnection": ("server", "username"),
}

Status = Literal["compatible", "missing", "signature-mismatch", "declared-unsupported"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """The verdict on one websockets name."""

    name: str
    kind: str
    status: Status
    detail: str = ""

    def data(self) -> dict[str, str]:
        """The entry as written to surface.json."""
        return dataclasses.asdict(self)


def resolve(name: str) -> Any:
    """Import the longest module prefix of ``name``, then get the remaining attributes."""
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            value = getattr(value, attribute)
        return value
    raise ImportError(name)


def mirrored(name: str, root: str) -> str:
    """``name`` with the reference root replaced by ``root``."""
    return root + name.removeprefix(REFERENCE)


def declared(name: str, apis: tuple[Api, ...], value: Any = None) -> Api | None:
    """The catalogue entry declaring ``name`` (a parent of it, or ``value`` under another
    name, as re-exported at the top level) unsupported, if any."""
    for api in apis:
        if name == api.name or name.startswith(f"{api.name}."):
            return api
        if value is not None and not isinstance(value, str | int) and value is resolve(api.name):
            return api
    return None


def kind(value: Any) -> str:
    """What sort of name this is, for the report."""
    if isinstance(value, types.ModuleType):
        return "module"
    if isinstance(value, enum.Enum):
        return "enum-member"
    if inspect.isclass(value):
        return "class"
    if isinstance(value, property | classmethod | staticmethod):
        return type(value).__name__
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return "function"
    if isinstance(value, str | int | float | bytes):
        return "constant"
    return "alias"


def members(cls: type) -> Iterator[tuple[str, Any]]:
    """Public members and protocol special methods defined in ``cls`` itself."""
    for name, value in vars(cls).items():
        if name in PROTOCOL_DUNDERS or not name.startswith("_"):
            yield name, value


def walk() -> Iterator[tuple[str, Any]]:
    """Every public websockets name: module names, then the members of classes defined there."""
    seen: set[str] = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        if module_name not in seen:
            seen.add(module_name)
            yield module_name, module
        for name in module.__all__:
            value = getattr(module, name)
            qualified = f"{module_name}.{name}"
            yield qualified, value
            home = getattr(value, "__module__", None) == module_name
            if inspect.isclass(value) and home and qualified not in seen:
                seen.add(qualified)
                if "__init__" in vars(value):
                    yield f"{qualified}.__init__", vars(value)["__init__"]
                for member, attribute in members(value):
                    yield f"{qualified}.{member}", attribute
                for attribute_name in INSTANCE_ATTRIBUTES.get(qualified, ()):
                    yield f"{qualified}.{attribute_name}", None


def _compatible_default(reference: Any, subject: Any) -> bool:
    """Same default, or a default of the same nature that names its own library or function."""
    if reference is subject:
        return True
    if callable(reference) and callable(subject):
        return getattr(reference, "__name__", None) == getattr(subject, "__name__", None)
    if isinstance(reference, str) and isinstance(subject, str) and f"{REFERENCE}/" in reference:
        # User-Agent and Server defaults name the library and its version.
        return True
    try:
        return bool(reference == subject)
    except Exception:
        return False


POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def signature_problems(reference: Callable[..., Any], subject: Callable[..., Any]) -> list[str]:
    """Why ``subject`` can't be called every way ``reference`` can; empty when it can.

    Parameters must keep their names, kinds and positions; a reference default needs a
    compatible default; extra parameters of the subject need defaults.
    """
    try:
        ref = inspect.signature(reference).parameters
        sub = inspect.signature(subject).parameters
    except (TypeError, ValueError):
        return []
    problems = []
    ref_positional = [name for name, p in ref.items() if p.kind in POSITIONAL]
    sub_positional = [name for name, p in sub.items() if p.kind in POSITIONAL]
    if sub_positional[: len(ref_positional)] != ref_positional:
        problems.append(f"positional parameters ({', '.join(sub_positional)}) "
                        f"!= ({', '.join(ref_positional)})")
    for name, parameter in ref.items():
        other = sub.get(name)
        if other is None:
            problems.append(f"no parameter {name}")
        elif other.kind is not parameter.kind:
            problems.append(f"{name} is {other.kind.description}, not {parameter.kind.description}")
        elif parameter.default is not inspect.Parameter.empty:
            if other.default is inspect.Parameter.empty:
                problems.append(f"{name} has no default (websockets: {parameter.default!r})")
            elif not _compatible_default(parameter.default, other.default):
                problems.append(f"{name} defaults to {other.default!r}, not {parameter.default!r}")
    for name, parameter in sub.items():
        required = parameter.default is inspect.Parameter.empty
        if name not in ref and parameter.kind not in VARIADIC and required:
            problems.append(f"extra required parameter {name}")
    return problems


def _instance_attribute(cls: type, name: str) -> bool:
    """Whether instances of ``cls`` get ``name``: on the class, annotated, or set by a method."""
    if hasattr(cls, name):
        return True
    pattern = re.compile(rf"\bself\.{re.escape(name)}\s*[:=]")
    for base in cls.__mro__:
        if name in getattr(base, "__annotations__", {}):
            return True
        try:
            source = inspect.getsource(base)
        except (OSError, TypeError):
            continue
        if pattern.search(source):
            return True
    return False


def _inherited_problems(reference: type, subject: type, apis: tuple[Api, ...]) -> list[str]:
    """Members ``reference`` inherits from websockets bases that ``subject`` lacks, unless
    declared unsupported."""
    missing = []
    for base in reference.__mro__[1:]:
        if not base.__module__.startswith(REFERENCE):
            continue
        for name, _ in members(base):
            qualified = f"{base.__module__}.{base.__qualname__}.{name}"
            if not hasattr(subject, name) and declared(qualified, apis) is None:
                missing.append(f"{name} (from {base.__name__})")
    return missing


def check(name: str, value: Any, root: str, apis: tuple[Api, ...]) -> Entry:
    """Compare the websockets ``name`` (whose value is ``value``) with ``root``'s."""
    entry_kind = "attribute" if value is None else kind(value)
    if name.endswith(".__init__"):
        entry_kind = "constructor"
    api = declared(name, apis, value)
    if api is not None:
        return Entry(name, entry_kind, "declared-unsupported",
                     f"{api.status}: {load().feature(api.feature).alternative}")
    target = mirrored(name, root)
    owner_name, _, attribute = target.rpartition(".")
    if value is None:
        try:
            owner = resolve(owner_name)
        except (ImportError, AttributeError) as exc:
            return Entry(name, entry_kind, "missing", f"{owner_name}: {type(exc).__name__}: {exc}")
        if _instance_attribute(owner, attribute):
            return Entry(name, entry_kind, "compatible")
        return Entry(name, entry_kind, "missing", f"{target} is never set")
    try:
        subject = resolve(target)
    except (ImportError, AttributeError) as exc:
        return Entry(name, entry_kind, "missing", f"{target}: {type(exc).__name__}: {exc}")
    problems: list[str] = []
    if isinstance(value, enum.Enum) and subject != value.value:
        problems.append(f"value {subject!r} != {value.value!r}")
    if callable(value) and not inspect.isclass(value):
        # Compare as reached through the owner: bound class methods, plain functions.
        if not callable(subject):
            problems.append(f"{target} isn't callable")
        else:
            problems += signature_problems(resolve(name), subject)
    # A plain attribute reads the same as a property; a method doesn't.
    if isinstance(value, property) and not isinstance(subject, property) and callable(subject):
        problems.append(f"{target} is a method, not a property")
    if inspect.isclass(value) and inspect.isclass(subject):
        missing = _inherited_problems(value, subject, apis)
        if missing:
            return Entry(name, entry_kind, "missing", "inherited: " + ", ".join(missing))
    if problems:
        return Entry(name, entry_kind, "signature-mismatch", "; ".join(problems))
    return Entry(name, entry_kind, "compatible")


def declarations(root: str) -> tuple[Api, ...]:
    """The ``[[api]]`` entries that apply to ``root``: all of them for compat, none otherwise."""
    return load().apis if root == SUBJECT else ()


def check_all(root: str = SUBJECT) -> list[Entry]:
    """An entry per websockets name, checked against ``root``."""
    apis = declarations(root)
    entries: dict[str, Entry] = {}
    for name, value in walk():
        if name not in entries:
            entries[name] = check(name, value, root, apis)
    for api in apis:
        if api.name not in entries:
            entries[api.name] = check(api.name, resolve(api.name), root, apis)
    return list(entries.values())


def placeholder_call(function: Callable[..., Any]) -> None:
    """Call ``function`` with None for each required parameter."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    args: list[None] = []
    kwargs: dict[str, None] = {}
    for parameter in parameters:
        if parameter.default is not inspect.Parameter.empty or parameter.kind in VARIADIC:
            continue
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = None
        else:
            args.append(None)
    function(*args, **kwargs)


def verify_declared(api: Api, root: str) -> str | None:
    """Why ``root`` doesn't behave as ``api`` declares; None when it does."""
    target = mirrored(api.name, root)
    try:
        value = resolve(target)
    except (ImportError, AttributeError):
        return None if api.status == "absent" else f"{target} is missing"
    if api.status == "absent":
        return f"{target} exists"
    if api.status == "signature":
        if signature_problems(resolve(api.name), value):
            return None
        return f"{target} has websockets' signature"
    unsupported = resolve(f"{root}.exceptions").UnsupportedFeature
    try:
        placeholder_call(value)
    except unsupported:
        return None
    except Exception as exc:
        return f"{target}() raised {type(exc).__name__}: {exc}"
    return f"{target}() returned"


def beyond(entries: list[Entry], peer: str) -> list[str]:
    """Names compatible in the checked root that ``peer``, checked without declarations, lacks
    or offers with another signature: what the root supports beyond that peer."""
    values = dict(walk())
    return [
        entry.name
        for entry in entries
        if entry.status == "compatible"
        and entry.name in values
        and check(entry.name, values[entry.name], peer, ()).status != "compatible"
    ]


def write(
    entries: list[Entry],
    root: str,
    path: pathlib.Path = RESULTS,
    peers: dict[str, list[str]] | None = None,
) -> None:
    """Write ``surface.json``: the entries of ``root``'s check and, per peer, the names
    ``root`` supports beyond it (see :func:`beyond`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "schema": SCHEMA,
        "root": root,
        "entries": [entry.data() for entry in entries],
        "beyond": peers or {},
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Check a root, print what isn't compatible, write the results; 1 if anything is missing."""
    parser = argparse.ArgumentParser(prog="python -m conformance.surface", description=__doc__)
    parser.add_argument(
        "--root", default=SUBJECT, help=f"module root to check (default {SUBJECT})"
    )
    parser.add_argument("--output", type=pathlib.Path, default=RESULTS, help="JSON file to write")
    options = parser.parse_args(argv)
    entries = check_all(options.root)
    write(entries, options.root, options.output)
    for entry in entries:
        if entry.status in ("missing", "signature-mismatch"):
            print(f"{entry.status:20} {entry.name}: {entry.detail}")
    counts = Counter(entry.status for entry in entries)
    print(", ".join(f"{status}: {count}" for status, count in sorted(counts.items())))
    print(f"results: {options.output}")
    return 1 if counts["missing"] or counts["signature-mismatch"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
