"""How far a long run is and how long is left, on stderr.

The Autobahn TestSuite and the benchmarks take minutes per target. On a terminal, a bar is drawn
again in place at each step; in CI logs (no terminal, or ``$CI`` set) a plain line is written
at the first step, then at most every :data:`INTERVAL` seconds, and at the last step::

    autobahn fuzzingclient compat: 120/517 cases, 2m10s elapsed, ~7m10s left
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["INTERVAL", "Progress", "duration", "interactive"]

#: Seconds between two plain lines.
INTERVAL = 30.0
#: Characters of the bar.
WIDTH = 24


def interactive(stream: TextIO) -> bool:
    """Whether to draw a bar in place: ``stream`` is a terminal, and not CI's."""
    return stream.isatty() and not os.environ.get("CI")


def duration(seconds: float) -> str:
    """``seconds`` as ``45s``, ``2m10s`` or ``1h02m``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


class Progress:
    """Steps done out of ``total`` (None when unknown) for ``label``, counted in ``unit``."""

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        tty: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.clock = clock
        self.tty = interactive(self.stream) if tty is None else tty
        self.started = clock()
        self.done = 0
        self.shown: float | None = None

    def text(self) -> str:
        """``done/total unit, elapsed, ~left``: what the bar and the lines say."""
        elapsed = self.clock() - self.started
        count = f"{self.done}/{self.total}" if self.total else str(self.done)
        text = f"{count} {self.unit}, {duration(elapsed)} elapsed"
        if self.total and 0 < self.done < self.total:
            text += f", ~{duration(elapsed / self.done * (self.total - self.done))} left"
        return text

    def bar(self) -> str:
        """The label, a bar when the total is known, and :meth:`text`."""
        if not self.total:
            return f"{self.label}: {self.text()}"
        filled = min(WIDTH, WIDTH * self.done // self.total)
        return f"{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {self.text()}"

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` steps are done, of ``total`` if given."""
        self.done = done
        if total is not None:
            self.total = total
        now = self.clock()
        if self.tty:
            print(f"\r\033[K{self.bar()}", end="", file=self.stream, flush=True)
        elif self.shown is None or now - self.shown >= INTERVAL or done == self.total:
            print(f"{self.label}: {self.text()}", file=self.stream, flush=True)
        else:
            return
        self.shown = now

    def advance(self, steps: int = 1) -> None:
        """``steps`` more steps are done."""
        self.update(self.done + steps)

    def log(self, message: str) -> None:
        """Write ``message`` on a line of its own, above the bar on a terminal."""
        if self.tty and self.shown is not None:
            print(f"\r\033[K{message}", file=self.stream)
            print(self.bar(), end="", file=self.stream, flush=True)
        else:
            print(message, file=self.stream, flush=True)

    def close(self) -> None:
        """End the bar's line on a terminal."""
        if self.tty and self.shown is not None:
            print(file=self.stream, flush=True)
