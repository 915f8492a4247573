"""Reference coverage: declarations of uncompared code are true, and the rest stays in budget."""

from __future__ import annotations

import json
from typing import Any

import pytest

from . import scenarios
from .catalogue import Uncompared, load
from .plugin import results_folder, state
from .refcoverage import (
    MODULES,
    SLACK,
    Arc,
    Budget,
    Region,
    budget_problems,
    declaration_problems,
    definitions,
    entry_regions,
    load_budget,
    problems,
    reference_source,
)
from .targets import registry

scenarios.load_all()


def test_uncompared_entries_name_reference_code() -> None:
    entries = load().uncompared
    assert entries
    for entry in entries:
        assert entry.module in MODULES, entry.module
        assert entry.functions or entry.statements or entry.branches, entry.module
        assert entry.reason.strip(), entry.module
        source = reference_source(entry.module)
        known = definitions(source)
        for name in entry.functions:
            assert name in known, f"{entry.module}: no definition {name}"
        found = entry_regions(entry, source)
        for text in entry.statements:
            label = text if isinstance(text, str) else " / ".join(text)
            assert label in found, f"{entry.module}: no statement {label!r} in {entry.functions}"
        for start, end in entry.branches:
            label = f"{start} -> {end}"
            assert label in found, f"{entry.module}: no branch {label!r} in {entry.functions}"


def test_declared_statements_cover_their_block_and_only_in_scope() -> None:
    source = (
        "try:\n"  # 1
        "    import fast\n"  # 2
        "except ImportError:\n"  # 3
        "    fast = None\n"  # 4
        "def f(x):\n"  # 5
        "    if x:\n"  # 6
        "        raise ValueError(\n"  # 7
        "            'x')\n"  # 8
        "    return x\n"  # 9
        "def g(x):\n"  # 10
        "    raise ValueError(\n"  # 11
        "        'x')\n"  # 12
    )
    module_wide = Uncompared("m", "r", statements=("except ImportError:",))
    assert entry_regions(module_wide, source) == {"except ImportError:": [Region(3, 4)]}
    in_f = Uncompared("m", "r", functions=("f",), statements=("raise ValueError(",))
    assert entry_regions(in_f, source) == {"raise ValueError(": [Region(7, 8)]}
    assert entry_regions(Uncompared("m", "r", functions=("g",)), source) == {"g": [Region(10, 12)]}
    nested = Uncompared("m", "r", statements=(("if x:", "raise ValueError("),))
    assert entry_regions(nested, source) == {"if x: / raise ValueError(": [Region(7, 8)]}


def test_declared_branches_are_single_arcs_within_one_function() -> None:
    source = (
        "def f(x):\n"  # 1
        "    if x:\n"  # 2
        "        x = 1\n"  # 3
        "    return x\n"  # 4
        "def g(x):\n"  # 5
        "    return x\n"  # 6
    )
    entry = Uncompared("m", "r", functions=("f",), branches=(("if x:", "return x"),))
    arcs = entry_regions(entry, source)["if x: -> return x"]
    assert arcs == [Arc(2, 4)]
    assert arcs[0].declares([2, 4]) and not arcs[0].declares([2, 3])
    assert 2 not in arcs[0] and 4 not in arcs[0]
    assert entry_regions(Uncompared("m", "r", branches=(("if x:", "x = 2"),)), source) == {}


def test_budget_names_measured_modules() -> None:
    budget = load_budget()
    assert set(budget.modules) <= set(MODULES)
    for name, allowed in budget.modules.items():
        assert set(allowed) <= {"lines", "branches"}, name
        assert all(isinstance(n, int) and n >= 0 for n in allowed.values()), name


def test_definitions_span_decorators_properties_and_nesting() -> None:
    source = (
        "class A:\n"  # 1
        "    @property\n"  # 2
        "    def x(self):\n"  # 3
        "        return 1\n"  # 4
        "    @x.setter\n"  # 5
        "    def x(self, value):\n"  # 6
        "        def inner():\n"  # 7
        "            pass\n"  # 8
        "if True:\n"  # 9
        "    async def f():\n"  # 10
        "        pass\n"  # 11
    )
    spans = {name: (r.first, r.last) for name, r in definitions(source).items()}
    assert spans == {"A": (1, 8), "A.x": (2, 8), "A.x.inner": (7, 8), "f": (10, 11)}


def measured(lines: int, branches: int, version: str = "17.4") -> dict[str, Any]:
    """A results document where every module has these undeclared counts."""
    return {
        "websockets": version,
        "modules": [
            {"module": name, "undeclared_lines": lines, "undeclared_branches": branches}
            for name in MODULES
        ],
    }


def test_budget_ratchets() -> None:
    budget = Budget("17.4", {name: {"lines": 10, "branches": 10} for name in MODULES})
    assert budget_problems(measured(10, 10), budget) == []
    assert budget_problems(measured(10 - SLACK, 10), budget) == []
    over = budget_problems(measured(11, 10), budget)
    assert len(over) == len(MODULES) and "11 uncovered lines" in over[0]
    under = budget_problems(measured(10, 9 - SLACK), budget)
    assert len(under) == len(MODULES)
    assert f"lower the budget to {9 - SLACK}" in under[0]
    assert "line numbers moved" in budget_problems(measured(10, 10, "18.0"), budget)[0]


def test_run_declared_code_is_a_problem() -> None:
    entry = next(
        entry
        for entry in load().uncompared
        if entry.module == "websockets.client" and not (entry.statements or entry.branches)
    )
    region = definitions(reference_source("websockets.client"))[entry.functions[0]]
    module = {"module": "websockets.client", "exercised_by": {str(region.last): [0]}}
    document = {"scenarios": ["close.normal"], "modules": [{**module, "missing_branches": []}]}
    found = declaration_problems(document, [entry])
    assert found and "close.normal" in found[0]
    assert declaration_problems({**document, "modules": []}, [entry]) == []


def test_taken_declared_branch_is_a_problem() -> None:
    branch = ("if self.state is CONNECTING:", "yield from super().parse()")
    entry = Uncompared("websockets.client", "r", ("ClientProtocol.parse",), branches=(branch,))
    found = entry_regions(entry, reference_source("websockets.client"))
    [arc] = found[" -> ".join(branch)]
    assert isinstance(arc, Arc)
    module = {"module": "websockets.client", "exercised_by": {}}
    untaken = {**module, "missing_branches": [[arc.source, arc.target]]}
    assert declaration_problems({"scenarios": [], "modules": [untaken]}, [entry]) == []
    taken = {**module, "missing_branches": []}
    problem = declaration_problems({"scenarios": [], "modules": [taken]}, [entry])
    assert len(problem) == 1 and "took it" in problem[0]


@pytest.mark.reference_coverage
def test_measured_reference_coverage_within_budget(request: pytest.FixtureRequest) -> None:
    """The coverage measured in this session, written to its results file, is within budget."""
    conformance = state(request.config)
    assert conformance.measurement is not None
    assert conformance.measurement.runs, "no scenario ran in this session: run pytest conformance"
    path = conformance.write_reference_coverage(results_folder(request.config))
    document = json.loads(path.read_text(encoding="utf-8"))
    found = problems(
        document, load_budget(), load().uncompared, [target.name for target in registry()]
    )
    assert not found, "\n".join(found)
