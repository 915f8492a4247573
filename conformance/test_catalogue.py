"""The catalogue covers the seed list exactly once and names only known things."""

from __future__ import annotations

import pathlib

import pytest

import fuzz.hypothesis

from . import scenarios, trace
from .catalogue import EXCUSED, SEED, Catalogue, Difference, load, matches, seed_bullets
from .plugin import state
from .scenario import PROPERTIES, judged_ids

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED_SEED = ROOT.parent / "shared" / "seed" / "websockets-compatibility.txt"

scenarios.load_all()
fuzz.hypothesis.load_all()


def test_every_seed_bullet_has_exactly_one_feature() -> None:
    bullets = seed_bullets(SEED.read_text(encoding="utf-8"))
    assert bullets
    texts = [feature.seed for feature in load().features if feature.seed is not None]
    for bullet in bullets:
        assert texts.count(bullet) == 1, bullet
    assert sorted(texts) == sorted(bullets)


def test_seed_bullets_carry_the_peer_status_they_document() -> None:
    for feature in load().features:
        assert (feature.seed is None) == (feature.peer_status is None), feature.id
        if feature.peer_status is not None:
            assert feature.peer_status.partition(":")[0] in ("unsupported", "partial"), feature.id


def test_seed_copy_matches_shared_seed() -> None:
    if SHARED_SEED.exists():
        assert SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_feature_ids_are_unique_and_well_formed() -> None:
    features = load().features
    assert len({feature.id for feature in features}) == len(features)
    for feature in features:
        assert feature.status in ("supported", "unsupported", "difference"), feature.id
        if feature.status == "unsupported":
            assert feature.error and feature.alternative and feature.targets, feature.id


def test_scenarios_reference_known_features() -> None:
    known = {feature.id for feature in load().features}
    for case in scenarios.registered():
        assert case.feature in known, case.id
        assert case.seed is None or case.seed in known, case.id


def test_properties_are_registered_with_known_features() -> None:
    known = {feature.id for feature in load().features}
    assert PROPERTIES
    for check in PROPERTIES.values():
        assert check.feature in known, check.id
        assert check.title, check.id


def test_differences_reference_known_features_and_scenarios() -> None:
    catalogue = load()
    known = {feature.id for feature in catalogue.features}
    ids = judged_ids()
    for difference in catalogue.differences:
        assert difference.feature is None or difference.feature in known, difference.id
        for pattern in difference.scenarios:
            assert any(matches(pattern, case_id) for case_id in ids), (difference.id, pattern)


def test_unsupported_features_imply_differences_for_their_scenarios() -> None:
    catalogue = load()
    raised = trace.compare({"result": 1}, {"exception": "UnsupportedFeature"})
    other = trace.compare({"result": 1}, {"exception": "ValueError"})
    seed = "distribution-surface"
    assert catalogue.declared("compat", "any", seed, raised) == f"unsupported.{seed}"
    assert catalogue.declared("compat", "any", seed, other) is None
    assert catalogue.declared("compat", "any", None, raised) is None
    assert catalogue.declared("websockets", "any", seed, raised) is None


def test_expect_looks_at_the_values_that_differ_only() -> None:
    """A declaration's expected text must be in what differs, not anywhere in the trace."""
    catalogue = load()
    seed = "distribution-surface"
    elsewhere = trace.compare(
        {"note": "UnsupportedFeature", "result": 1}, {"note": "UnsupportedFeature", "result": 2}
    )
    assert catalogue.declared("compat", "any", seed, elsewhere) is None


def test_api_entries_name_seed_features() -> None:
    catalogue = load()
    for api in catalogue.apis:
        assert catalogue.feature(api.feature).status == "unsupported", api.name
        assert api.name.startswith("websockets."), api.name


def test_difference_paths_restrict_what_may_differ() -> None:
    catalogue = load()
    reason_only = [
        trace.Change(("recv", 0, "sent", "reason"), "value", "a", "b"),
        trace.Change(("peer_read", 3, "reason"), "value", "a", "b"),
    ]
    code_too = [*reason_only, trace.Change(("recv", 0, "sent", "code"), "value", 1002, 1011)]
    scenario = "protocol.reserved-opcode.to-client"
    assert catalogue.declared("compat", scenario, None, reason_only) is not None
    assert catalogue.declared("compat", scenario, None, code_too) is None


def test_a_declaration_that_excuses_nothing_is_reported() -> None:
    used = Difference(id="used", targets=("compat",), scenarios=("close.*",), reason="r")
    idle = Difference(id="idle", targets=("compat",), scenarios=("close.*",), reason="r")
    peer = Difference(id="peer", targets=("picows.websockets",), scenarios=("x",), reason="r")
    catalogue = Catalogue(features=(), differences=(used, idle, peer), apis=())
    changes = trace.compare({"a": 1}, {"a": 2})
    assert catalogue.declared("compat", "close.normal", None, changes) == "used"
    assert catalogue.unused(["compat"], {"used": 1}) == ["idle"]
    assert catalogue.unused(["compat", "picows.websockets"], {"used": 1}) == ["idle", "peer"]


@pytest.mark.reference_coverage
def test_every_declaration_excuses_something(request: pytest.FixtureRequest) -> None:
    """After a whole session, each difference declared for a target that ran excused a scenario
    run, a generated example or a reliability check."""
    targets = [target.name for target in state(request.config).targets if target.available]
    assert not load().unused(targets, EXCUSED), dict(EXCUSED)
