"""Progress of long runs: a bar on a terminal, plain lines now and then in CI logs."""

from __future__ import annotations

import io

import pytest

from reports.progress import INTERVAL, Progress, duration, interactive


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_durations() -> None:
    assert [duration(s) for s in (0, 45.9, 60, 130, 3599, 3720)] == [
        "0s", "45s", "1m00s", "2m10s", "59m59s", "1h02m",
    ]


def test_plain_lines_at_the_start_every_interval_and_at_the_end() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress("autobahn fuzzingclient compat", 517, "cases", stream=stream, clock=clock)
    progress.update(0)
    clock.now += 130
    progress.update(120)
    clock.now += INTERVAL / 2
    progress.update(121)
    clock.now += INTERVAL / 2
    progress.update(122)
    progress.update(517)
    progress.close()
    assert stream.getvalue().splitlines() == [
        "autobahn fuzzingclient compat: 0/517 cases, 0s elapsed",
        "autobahn fuzzingclient compat: 120/517 cases, 2m10s elapsed, ~7m10s left",
        "autobahn fuzzingclient compat: 122/517 cases, 2m40s elapsed, ~8m38s left",
        "autobahn fuzzingclient compat: 517/517 cases, 2m40s elapsed",
    ]


def test_a_bar_redrawn_in_place_on_a_terminal() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress("bench", 4, "measurements", stream=stream, clock=clock, tty=True)
    progress.log("case one")
    clock.now += 10
    progress.advance()
    progress.log("case two")
    clock.now += 10
    progress.advance(3)
    progress.close()
    assert stream.getvalue() == (
        "case one\n"
        "\r\033[Kbench [######..................] 1/4 measurements, 10s elapsed, ~30s left"
        "\r\033[Kcase two\n"
        "bench [######..................] 1/4 measurements, 10s elapsed, ~30s left"
        "\r\033[Kbench [########################] 4/4 measurements, 20s elapsed"
        "\n"
    )


def test_an_unknown_total_counts_without_estimate() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress("autobahn fuzzingserver x", None, "cases", stream=stream, clock=clock)
    clock.now += 5
    progress.update(3)
    assert stream.getvalue() == "autobahn fuzzingserver x: 3 cases, 5s elapsed\n"


def test_ci_and_pipes_get_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    assert interactive(Terminal()) and not interactive(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not interactive(Terminal())
