"""Autobahn runner: configuration files, case selection and summaries of a tiny real run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from conformance.catalogue import Catalogue, Difference, load
from fuzz.autobahn.__main__ import _known_cases, main
from fuzz.autobahn.config import (
    MODES,
    ConfigError,
    Selection,
    catalogue_exclusions,
    load_selection,
)
from fuzz.autobahn.runner import run, runner_name
from fuzz.autobahn.summary import SCHEMA, format_line, summarize, write_summary

TARGETS = ("websockets", "compat", "picows.websockets")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", TARGETS)
def test_configs_parse(mode: str, target: str) -> None:
    selection = load_selection(mode, target)  # type: ignore[arg-type]
    assert selection.cases
    assert all(reason for reason in selection.excluded.values())


def _write_config(directory: Path, **config: object) -> Path:
    (directory / "fuzzingclient.json").write_text(json.dumps(config))
    return directory


def test_exclusion_needs_reason(tmp_path: Path) -> None:
    config_dir = _write_config(tmp_path, cases=["*"], **{"exclude-cases": ["9.*"]})
    with pytest.raises(ConfigError, match=r"9\.\*"):
        load_selection("fuzzingclient", "websockets", config_dir=config_dir)


def _catalogue(*differences: Difference) -> Catalogue:
    return Catalogue(features=(), differences=differences, apis=())


def _declaring(id: str, *autobahn: str, targets: tuple[str, ...] = ("compat",)) -> Difference:
    return Difference(
        id=id, targets=targets, scenarios=(), reason=f"why {id}", autobahn=autobahn
    )


def test_agent_exclusions_come_from_the_catalogue_and_cases_override(tmp_path: Path) -> None:
    config_dir = _write_config(
        tmp_path, cases=["*"], **{"exclude-cases": ["12.*"], "reasons": {"12.*": "slow"}}
    )
    catalogue = _catalogue(_declaring("picows-core.big", "9.1.*"))
    selection = load_selection("fuzzingclient", "compat", ["9.*", "12.1.1"], config_dir, catalogue)
    selected, excluded = selection.resolve(["1.1.1", "9.1.1", "9.2.1", "12.1.1"])
    assert selected == ["9.2.1"]
    assert excluded == {"9.1.1": "picows-core.big: why picows-core.big", "12.1.1": "slow"}
    other = load_selection("fuzzingclient", "websockets", None, config_dir, catalogue)
    assert other.excluded == {"12.*": "slow"}


def test_agent_exclusions_in_the_config_are_refused(tmp_path: Path) -> None:
    config_dir = _write_config(
        tmp_path,
        cases=["*"],
        **{"exclude-agent-cases": {"compat": ["7.1.2"]}, "reasons": {"7.1.2": "copy"}},
    )
    with pytest.raises(ConfigError, match="catalogue"):
        load_selection("fuzzingclient", "compat", config_dir=config_dir)


def test_a_case_excluded_twice_for_a_target_is_refused() -> None:
    catalogue = _catalogue(_declaring("a", "7.1.2"), _declaring("b", "7.1.2"))
    with pytest.raises(ConfigError, match=r"7\.1\.2 .* a and b"):
        catalogue_exclusions("compat", catalogue)
    peer = _catalogue(_declaring("a", "7.1.2"), _declaring("b", "7.1.2", targets=("peer",)))
    assert list(catalogue_exclusions("peer", peer).values()) == ["b: why b"]


@pytest.mark.parametrize("mode", MODES)
def test_compat_exclusions_are_the_catalogue_declarations(mode: str) -> None:
    """Case 7.1.2 is excluded for compat alone, in both modes, with the reason of the
    declaration of its cause, which the differential session also checks."""
    declaration = next(d for d in load().differences if "7.1.2" in d.autobahn)
    assert declaration.scenarios
    compat = load_selection(mode, "compat")  # type: ignore[arg-type]
    assert compat.excluded == {"7.1.2": f"{declaration.id}: {declaration.reason}"}
    assert load_selection(mode, "websockets").excluded == {}  # type: ignore[arg-type]


def test_catalogue_exclusions_name_known_cases() -> None:
    known = _known_cases()
    if known is None:
        pytest.skip("kosoku isn't installed")
    globs = [glob for d in load().differences for glob in d.autobahn]
    assert globs
    for glob in globs:
        assert Selection(cases=(glob,), excluded={}).resolve(known)[0], glob


def test_autobahn_only_declarations_are_not_reported_unused() -> None:
    """A declaration listing only Autobahn cases can't excuse a run, and an excluded case never
    runs: the session leaves it unchecked rather than counting the exclusion as a use."""
    only = _declaring("only-autobahn", "7.1.2")
    both = Difference(
        id="both", targets=("compat",), scenarios=("protocol.*",), reason="r", autobahn=("7.1.2",)
    )
    catalogue = _catalogue(only, both)
    assert catalogue.unused(["compat"], {}) == ["both"]
    assert catalogue.unused(["compat"], {"both": 1}) == []


def _index(directory: Path, cases: dict[str, tuple[str, str]]) -> None:
    directory.mkdir(parents=True)
    index = {
        case_id: {
            "behavior": behavior,
            "behaviorClose": behavior_close,
            "duration": 1,
            "remoteCloseCode": 1000,
            "reportfile": f"agent_case_{case_id.replace('.', '_')}.json",
        }
        for case_id, (behavior, behavior_close) in cases.items()
    }
    (directory / "index.json").write_text(json.dumps({"agent": index}))


def test_summarize_counts_failures(tmp_path: Path) -> None:
    outdir = tmp_path / "fuzzingclient" / "x"
    _index(
        outdir,
        {
            "2.1": ("OK", "OK"),
            "10.1.1": ("NON-STRICT", "OK"),
            "1.1.1": ("OK", "WRONG CODE"),
            "6.4.1": ("INFORMATIONAL", "OK"),
            "5.1": ("UNCLEAN", "UNCLEAN"),
        },
    )
    summary = summarize(
        mode="fuzzingclient",
        target="x",
        runner="kosoku",
        outdir=outdir,
        base=tmp_path,
        seconds=1.23,
        excluded={"12.1.1": "slow"},
    )
    assert list(summary["cases"]) == ["1.1.1", "2.1", "5.1", "6.4.1", "10.1.1"]
    assert summary["failed"] == ["1.1.1", "5.1"]
    assert summary["counts"] == {
        "OK": 1,
        "NON-STRICT": 1,
        "INFORMATIONAL": 1,
        "UNIMPLEMENTED": 0,
        "FAILED": 2,
    }
    assert summary["index"] == "fuzzingclient/x/index.json"
    assert summary["cases"]["2.1"]["report"] == "fuzzingclient/x/agent_case_2_1.json"
    assert "error" not in summary
    assert "failed: 1.1.1 5.1" in format_line(summary)


def test_summarize_missing_index_is_an_error(tmp_path: Path) -> None:
    summary = summarize(
        mode="fuzzingserver",
        target="x",
        runner="kosoku",
        outdir=tmp_path,
        base=tmp_path,
        seconds=0.0,
        excluded={},
    )
    assert summary["total"] == 0
    assert summary["error"].startswith("no report")


def test_write_summary_replaces_same_run(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    first = {"mode": "fuzzingclient", "target": "a", "seconds": 1}
    write_summary(path, [first, {"mode": "fuzzingserver", "target": "a"}])
    runs = write_summary(path, [{**first, "seconds": 2}])
    assert json.loads(path.read_text())["schema"] == SCHEMA
    assert [(run["mode"], run.get("seconds")) for run in runs] == [
        ("fuzzingclient", 2),
        ("fuzzingserver", None),
    ]


@pytest.mark.parametrize("mode", MODES)
async def test_tiny_real_run(tmp_path: Path, mode: str) -> None:
    selection = Selection(cases=("1.1.1", "1.1.2"), excluded={})
    outdir = tmp_path / mode / "websockets"
    seen: list[tuple[int, int | None]] = []
    async with asyncio.timeout(90):
        outcome = await run(
            mode,  # type: ignore[arg-type]
            "websockets",
            selection,
            outdir,
            runner=runner_name(),
            time_limit=60,
            total=2,
            progress=lambda done, total: seen.append((done, total)),
        )
    assert outcome.error is None
    summary = summarize(
        mode=mode,
        target="websockets",
        runner=runner_name(),
        outdir=outdir,
        base=tmp_path,
        seconds=outcome.seconds,
        excluded={},
    )
    assert summary["total"] == 2
    assert summary["counts"]["OK"] == 2
    assert summary["failed"] == []
    assert (tmp_path / summary["cases"]["1.1.2"]["report"]).is_file()
    assert seen[-1] == (2, 2)


def test_strict_target_broken_run_fails(tmp_path: Path) -> None:
    status = main(
        [
            "--mode",
            "fuzzingclient",
            "--target",
            "no_such_root",
            "--strict-target",
            "no_such_root",
            "--cases",
            "1.1.1",
            "--time-limit",
            "30",
            "--outdir",
            str(tmp_path),
        ]
    )
    assert status == 1
    (run_summary,) = json.loads((tmp_path / "summary.json").read_text())["runs"]
    assert "echo server did not start" in run_summary["error"]
