"""What a process spends: CPU time, system calls and peak resident memory, read by the process.

The client (the benchmark process) and each server process read their own counters, so that a
measured window can be charged to each side. CPU time works everywhere; system calls and peak
memory only where the platform can count them without slowing the process down (see
:func:`meters`).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import os
import platform
import struct
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Usage", "meters", "reset_peak", "snapshot"]

#: Files holding the id of the tracepoint that fires on entry to every system call.
TRACEPOINT_IDS = (
    Path("/sys/kernel/tracing/events/raw_syscalls/sys_enter/id"),
    Path("/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id"),
)

#: perf_event_open's system call number per machine (Linux).
PERF_EVENT_OPEN = {"x86_64": 298, "aarch64": 241, "arm64": 241, "riscv64": 241}

PERF_TYPE_TRACEPOINT = 2
PERF_FLAG_FD_CLOEXEC = 8

#: A version 0 ``struct perf_event_attr``: type, size, config, then fields left at zero (the
#: counter starts enabled, counts user and kernel mode, and only the calling thread).
PERF_ATTR = struct.Struct("=IIQQQQQIIQ")

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class Usage:
    """Counters of one process: totals, or the difference over a window (see :meth:`since`)."""

    cpu: float
    """User plus system CPU time of every thread, in seconds."""

    syscalls: int | None
    """System calls entered by the thread running the event loop; ``None`` if not countable."""

    peak_rss: int | None
    """Highest resident memory, in bytes, since the last :func:`reset_peak`; ``None`` if the
    platform doesn't keep it."""

    def since(self, start: Usage) -> Usage:
        """What was spent since ``start``; the peak is this one's."""
        syscalls = (
            None if self.syscalls is None or start.syscalls is None
            else self.syscalls - start.syscalls
        )
        return Usage(self.cpu - start.cpu, syscalls, self.peak_rss)


@functools.cache
def _syscall_counter() -> int | str:
    """A perf counter of the current thread's system calls: its file descriptor, or why not."""
    if sys.platform != "linux":
        return f"no system call counter on {sys.platform}"
    number = PERF_EVENT_OPEN.get(platform.machine())
    if number is None:
        return f"perf_event_open's number is not known on {platform.machine()}"
    try:
        tracepoint = next(int(path.read_text()) for path in TRACEPOINT_IDS if path.exists())
    except (StopIteration, OSError, ValueError):
        return "tracefs (raw_syscalls:sys_enter) is not readable: it usually needs root"
    attr = PERF_ATTR.pack(PERF_TYPE_TRACEPOINT, PERF_ATTR.size, tracepoint, 0, 0, 0, 0, 0, 0, 0)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = int(libc.syscall(number, ctypes.create_string_buffer(attr, len(attr)), 0, -1, -1,
                          PERF_FLAG_FD_CLOEXEC))
    if fd < 0:
        error = ctypes.get_errno()
        return (f"perf_event_open failed: {os.strerror(error)} (see "
                "/proc/sys/kernel/perf_event_paranoid; counting kernel events needs 1 or less)")
    return fd


def _syscalls() -> int | None:
    counter = _syscall_counter()
    if isinstance(counter, str):
        return None
    count: int = struct.unpack("Q", os.read(counter, 8))[0]
    return count


@functools.cache
def _peak_mark() -> str | None:
    """Why the peak memory mark can't be reset and read here, or ``None`` if it can."""
    if sys.platform != "linux":
        return f"no resettable peak memory mark on {sys.platform}"
    try:
        CLEAR_REFS.write_text("5")
    except OSError as exc:
        return f"/proc/self/clear_refs can't reset the peak (Linux 4.0 or later): {exc}"
    return None


def _peak_rss() -> int | None:
    """The resident memory high-water mark (``VmHWM``), where it can be reset."""
    if _peak_mark() is not None:
        return None
    for line in STATUS.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def snapshot() -> Usage:
    """The counters of the current process now."""
    return Usage(time.process_time(), _syscalls(), _peak_rss())


def reset_peak() -> None:
    """Free what can be freed, then restart the peak memory mark from the current memory.

    Memory the allocator kept from earlier work would otherwise hide what the next window needs.
    """
    gc.collect()
    if _peak_mark() is not None:
        return
    with contextlib.suppress(AttributeError):  # glibc: give free heap pages back to the system
        ctypes.CDLL(None).malloc_trim(0)
    CLEAR_REFS.write_text("5")


def meters() -> dict[str, dict[str, object]]:
    """What each counter measures on this machine, or why it is unavailable."""
    counter, mark = _syscall_counter(), _peak_mark()
    return {
        "cpu": {
            "available": True,
            "detail": "user + system CPU time of each process (time.process_time)",
        },
        "syscalls": {
            "available": not isinstance(counter, str),
            "detail": counter if isinstance(counter, str) else (
                "system calls entered by each process's event loop thread "
                "(perf counter on the raw_syscalls:sys_enter tracepoint)"
            ),
        },
        "peak_rss": {
            "available": mark is None,
            "detail": mark or (
                "VmHWM of each process, reset through /proc/self/clear_refs after freeing "
                "memory (gc, malloc_trim) at the start of the window"
            ),
        },
    }
