"""Event loops a case can run on: the default asyncio loop and uvloop."""

from __future__ import annotations

import asyncio
import importlib.util
import resource

__all__ = ["LOOPS", "available", "new_runner", "raise_fd_limit"]

LOOPS = ("asyncio", "uvloop")


def available(name: str) -> bool:
    """Tell whether the event loop ``name`` can be used on this machine."""
    return name == "asyncio" or importlib.util.find_spec(name) is not None


def new_runner(name: str) -> asyncio.Runner:
    """Return an :class:`asyncio.Runner` driving the event loop ``name``."""
    if name == "uvloop":
        import uvloop

        return asyncio.Runner(loop_factory=uvloop.new_event_loop)
    return asyncio.Runner()


def raise_fd_limit() -> None:
    """Raise the soft limit on open files to the hard limit: cases open a thousand sockets."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
