"""Merge the result files of the parts of one run into the files one whole run writes.

CI splits the long runs into shards (the differential suite by target, Autobahn by target and
mode) and pytest-xdist splits a session between workers; each part writes its own result files.
``python -m reports merge OUT SHARD...`` and the controller of an xdist session merge them:
entries are united, an entry made by several parts (the reference's baseline runs, which every
shard makes) is kept once, the order is the parts' and counts are made again.
"""

from __future__ import annotations

import functools
import heapq
import json
import pathlib
import shutil
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from conformance import refcoverage
from fuzz.autobahn import summary as autobahn_summary
from fuzz.autobahn.junit import write_junit

from .inputs import INPUTS, load
from .model import STATUSES

__all__ = [
    "MergeError",
    "conformance",
    "conformance_summary",
    "interleave",
    "merge",
    "merge_results",
]

K = TypeVar("K", bound=Hashable)
Document = dict[str, Any]
#: A conformance run: scenario id, client and server.
Run = tuple[str, str, str]

#: Roles of conformance targets in the order a run lists them.
ROLES = ("reference", "subject", "peer")
RESULTS = "results"
AUTOBAHN = "autobahn"


class MergeError(ValueError):
    """Parts that don't make one run, or a result file that can't be used."""


def interleave(
    sequences: Iterable[Iterable[K]], rank: Callable[[K], int] = lambda key: 0
) -> list[K]:
    """Every key of ``sequences`` once, in an order that keeps the order of each sequence.

    Where the sequences leave it open, the key of lower ``rank`` comes first, then the key seen
    first. Keys that sequences order both ways come last, in the order first seen.
    """
    seen: dict[K, int] = {}
    after: dict[K, set[K]] = {}
    waiting: dict[K, int] = {}
    for sequence in sequences:
        previous: K | None = None
        for key in sequence:
            seen.setdefault(key, len(seen))
            after.setdefault(key, set())
            waiting.setdefault(key, 0)
            if previous is not None and previous != key and key not in after[previous]:
                after[previous].add(key)
                waiting[key] += 1
            previous = key
    ready = [(rank(key), seen[key], key) for key, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[K] = []
    while ready:
        _, _, key = heapq.heappop(ready)
        order.append(key)
        for following in after[key]:
            waiting[following] -= 1
            if waiting[following] == 0:
                heapq.heappush(ready, (rank(following), seen[following], following))
    placed = set(order)
    return order + [key for key in seen if key not in placed]


def same(documents: Sequence[Document], key: str) -> Any:
    """The value of ``key``, which every part must have alike."""
    values = {json.dumps(document.get(key), sort_keys=True) for document in documents}
    if len(values) > 1:
        raise MergeError(f"parts of one run differ in {key!r}: {', '.join(sorted(values))}")
    return documents[0].get(key)


def conformance_summary(
    targets: Iterable[Mapping[str, Any]], runs: Iterable[Mapping[str, Any]]
) -> dict[str, dict[str, int]]:
    """``summary`` of conformance.json: each target but the reference, its runs by status."""
    counts = {
        target["name"]: dict.fromkeys(STATUSES, 0)
        for target in targets
        if target["role"] != "reference"
    }
    for run in runs:
        if run["status"] in STATUSES and run["target"] in counts:
            counts[run["target"]][run["status"]] += 1
    return counts


def conformance(documents: Sequence[Document], plan: Sequence[Run] = ()) -> Document:
    """conformance.json of the parts' runs, ordered as one session orders them.

    Targets go by role, then as the parts list them. Scenarios and their runs go as ``plan``
    lists them (scenario, client and server of every run of a whole session, in its order), then
    as the parts do, runs by target: shards split by target list their runs in the session's
    order, the workers of an xdist session don't, so their controller gives the plan. A run is
    known by its client and server, and kept once: every shard makes the reference's baseline.
    """
    described: dict[str, Document] = {}
    for document in documents:
        for target in document["targets"]:
            described.setdefault(target["name"], target)

    def role(name: str) -> int:
        found = described[name]["role"]
        return ROLES.index(found) if found in ROLES else len(ROLES)

    names = interleave(([t["name"] for t in d["targets"]] for d in documents), role)
    position = {name: number for number, name in enumerate(names)}
    listed: dict[str, Document] = {}
    runs: dict[str, dict[tuple[str, str], Document]] = {}
    orders: dict[str, list[list[tuple[str, str]]]] = {}
    for scenario_id, client, server in plan:
        orders.setdefault(scenario_id, [[]])[0].append((client, server))
    for document in documents:
        for scenario in document["scenarios"]:
            listed.setdefault(scenario["id"], scenario)
            keyed = runs.setdefault(scenario["id"], {})
            for run in scenario["runs"]:
                keyed.setdefault((run["client"], run["server"]), run)
            orders.setdefault(scenario["id"], []).append(
                [(run["client"], run["server"]) for run in scenario["runs"]]
            )
    scenarios = []
    sequences = [[s["id"] for s in d["scenarios"]] for d in documents]
    for scenario_id in interleave([list(dict.fromkeys(run[0] for run in plan)), *sequences]):
        made = runs.get(scenario_id)
        if not made:
            continue
        ranks = {
            key: position.get(made[key]["target"], len(position)) if key in made else len(position)
            for sequence in orders[scenario_id]
            for key in sequence
        }
        order = interleave(orders[scenario_id], ranks.__getitem__)
        scenarios.append(
            {**listed[scenario_id], "runs": [made[key] for key in order if key in made]}
        )
    targets = [described[name] for name in names]
    return {
        "schema": documents[0]["schema"],
        "started": min(document["started"] for document in documents),
        "finished": max(document["finished"] for document in documents),
        "environment": documents[0]["environment"],
        "targets": targets,
        "scenarios": scenarios,
        "summary": conformance_summary(
            targets, (run for scenario in scenarios for run in scenario["runs"])
        ),
    }


def hypothesis(documents: Sequence[Document]) -> Document:
    """hypothesis.json of the parts' properties: by property, then as the parts list them."""
    properties: dict[tuple[str, str], Document] = {}
    for document in documents:
        for entry in document["properties"]:
            properties.setdefault((entry["name"], entry["target"]), entry)
    names = interleave([entry["name"] for entry in d["properties"]] for d in documents)
    rank = {name: number for number, name in enumerate(names)}
    order = interleave(
        ([(entry["name"], entry["target"]) for entry in d["properties"]] for d in documents),
        lambda key: rank[key[0]],
    )
    return {
        "schema": documents[0]["schema"],
        "profile": same(documents, "profile"),
        "properties": [properties[key] for key in order],
    }


def united(values: Sequence[Any]) -> Any:
    """Sections of one target from several parts, each keeping what the first part has.

    Figures (objects) are united by name, checks (lists) by check name or whole entry; other
    values are the first part's.
    """
    if all(isinstance(value, dict) for value in values):
        merged: Document = {}
        for value in values:
            for key, item in value.items():
                merged.setdefault(key, item)
        return merged
    if all(isinstance(value, list) for value in values):

        def key(entry: Any) -> str:
            if isinstance(entry, dict) and "name" in entry:
                return str(entry["name"])
            return json.dumps(entry, sort_keys=True, default=str)

        entries: list[Any] = []
        known: set[str] = set()
        for value in values:
            entries += [entry for entry in value if key(entry) not in known]
            known.update(key(entry) for entry in value)
        return entries
    return values[0]


def reliability(documents: Sequence[Document]) -> Document:
    """reliability.json of the parts' figures, per target.

    Every shard measures the reference: a figure or problem several parts record is kept once.
    """
    targets: Document = {}
    for name in interleave(list(document["targets"]) for document in documents):
        sections = [d["targets"][name] for d in documents if name in d["targets"]]
        keys = interleave(list(section) for section in sections)
        targets[name] = {
            key: united([section[key] for section in sections if key in section]) for key in keys
        }
    return {
        "schema": documents[0]["schema"],
        "variant": same(documents, "variant"),
        "targets": targets,
    }


def whole(documents: Sequence[Document]) -> Document:
    """A result file no run splits (the API surface, the benchmarks): one part must write it."""
    if len(documents) > 1:
        raise MergeError(f"{len(documents)} parts wrote {documents[0]['schema']}: one must")
    return documents[0]


#: How the result files of results/ merge, by input name.
MERGERS: dict[str, Callable[[Sequence[Document]], Document]] = {
    "conformance": conformance,
    "reference_coverage": refcoverage.merge,
    "hypothesis": hypothesis,
    "reliability": reliability,
    "surface": whole,
    "bench": whole,
}


def read(paths: Iterable[pathlib.Path], schema: str) -> list[Document]:
    """The result files among ``paths`` that exist; an unusable one is an error."""
    found = []
    for path in paths:
        data, error = load(path, schema)
        if error is not None:
            raise MergeError(f"{path}: {error}")
        if data is not None:
            found.append(data)
    return found


def merge_results(
    folder: pathlib.Path, parts: Sequence[pathlib.Path], plan: Sequence[Run] = ()
) -> list[pathlib.Path]:
    """Merge the result files of the results folders ``parts`` into ``folder``; ``plan`` orders
    conformance runs as :func:`conformance` says.

    A file no part wrote is left as it is. Return the files written.
    """
    written = []
    mergers: dict[str, Callable[[Sequence[Document]], Document]] = {
        **MERGERS,
        "conformance": functools.partial(conformance, plan=plan),
    }
    for name, merger in mergers.items():
        relative, schema = INPUTS[name]
        file = pathlib.PurePath(relative).name
        found = read((part / file for part in parts), schema)
        if not found:
            continue
        try:
            document = merger(found)
        except ValueError as exc:
            raise MergeError(f"{file}: {exc}") from exc
        path = folder / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def merge_autobahn(folder: pathlib.Path, parts: Sequence[pathlib.Path]) -> list[pathlib.Path]:
    """Merge the Autobahn folders ``parts`` (a summary, reports per mode and target) into
    ``folder``: runs by mode, then as the parts list them; each run's reports come along."""
    relative, schema = INPUTS["autobahn"]
    file = pathlib.PurePath(relative).name
    runs: dict[tuple[str, str], tuple[Document, pathlib.Path]] = {}
    found = []
    for part in parts:
        data = read([part / file], schema)
        if data:
            found.append(data[0])
            for run in data[0]["runs"]:
                runs.setdefault((run["mode"], run["target"]), (run, part))
    if not found:
        return []
    modes = interleave([run["mode"] for run in d["runs"]] for d in found)
    order = interleave(
        ([(run["mode"], run["target"]) for run in d["runs"]] for d in found),
        lambda key: modes.index(key[0]),
    )
    for key in order:
        run, part = runs[key]
        reports = pathlib.PurePath(run["index"]).parent
        if (part / reports).is_dir():
            shutil.copytree(part / reports, folder / reports, dirs_exist_ok=True)
    merged = [runs[key][0] for key in order]
    folder.mkdir(parents=True, exist_ok=True)
    summary = folder / file
    summary.write_text(
        json.dumps({"schema": autobahn_summary.SCHEMA, "runs": merged}, indent=2) + "\n"
    )
    junit = folder / "junit.xml"
    write_junit(junit, merged)
    return [summary, junit]


def merge(out: pathlib.Path, shards: Sequence[pathlib.Path]) -> list[pathlib.Path]:
    """Merge the output folders ``shards`` (each holding results/ and autobahn/, as
    reports/out does) into ``out``, which the report then reads. Return the files written."""
    resolved = {shard.resolve() for shard in shards}
    if out.resolve() in resolved:
        raise MergeError(f"{out} is one of the shards: merge into another folder")
    return merge_results(out / RESULTS, [shard / RESULTS for shard in shards]) + merge_autobahn(
        out / AUTOBAHN, [shard / AUTOBAHN for shard in shards]
    )
