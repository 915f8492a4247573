"""Run the Autobahn TestSuite in one mode against one target, in subprocesses.

fuzzingclient: the target's echo server listens, kosoku (or wstest) drives it.
fuzzingserver: kosoku (or wstest) listens, the target's client driver connects.
Everything started is stopped when the run ends, fails, times out or is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Literal

from fuzz.autobahn.config import Mode, Selection
from fuzz.autobahn.settings import ENVIRONMENT, HOST, PROGRESS_MARK

__all__ = ["Outcome", "Progress", "RunnerName", "run", "runner_name"]

RunnerName = Literal["kosoku", "wstest"]

# Progress callback: cases done, total cases (None when unknown).
Progress = Callable[[int, int | None], None]

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
# Once the client under test is done, the fuzzing server writes its reports.
REPORT_TIMEOUT = 60.0
LISTENING = re.compile(rb"listening on ws://([^:\s]+):(\d+)")


@dataclasses.dataclass
class Outcome:
    """How a run went: its wall time and why it broke, if it did."""

    seconds: float
    error: str | None = None


def runner_name() -> RunnerName:
    """Autobahn's own ``wstest`` when on PATH, kosoku otherwise."""
    return "wstest" if shutil.which("wstest") else "kosoku"


def _kosoku_command() -> list[str]:
    beside = Path(sys.executable).with_name("kosoku")
    return [str(beside) if beside.exists() else shutil.which("kosoku") or "kosoku"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _python(module: str, target: str, port: int, *args: str) -> list[str]:
    return [
        sys.executable, "-m", module, "--target", target, "--port", str(port), "--progress", *args
    ]


def _selection_args(selection: Selection) -> list[str]:
    args: list[str] = []
    for glob in selection.cases:
        args += ["-i", glob]
    for glob in selection.excluded:
        args += ["-x", glob]
    return args


def _wstest_spec(mode: Mode, target: str, selection: Selection, outdir: Path, url: str) -> Path:
    """Write the Autobahn spec wstest reads; exclusions are already resolved per target."""
    spec: dict[str, object] = {
        "outdir": str(outdir),
        "cases": list(selection.cases),
        "exclude-cases": list(selection.excluded),
        "exclude-agent-cases": {},
    }
    if mode == "fuzzingclient":
        spec["servers"] = [{"agent": target, "url": url}]
    else:
        spec["url"] = url
    path = outdir / f"{mode}.spec.json"
    path.write_text(json.dumps(spec, indent=2))
    return path


@contextlib.asynccontextmanager
async def _process(
    command: Sequence[str], log: Path, *, stdout: bool = False
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Start ``command`` with stderr (and stdout unless piped) to ``log``; stop it on exit."""
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env={**os.environ, **ENVIRONMENT},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if stdout else sink,
            stderr=sink,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


def _log_tail(log: Path, lines: int = 5) -> str:
    with contextlib.suppress(OSError):
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
    return ""


async def _wait_accepting(process: asyncio.subprocess.Process, port: int, log: Path) -> None:
    """Wait until something accepts on ``port``, failing early if ``process`` exits."""
    async with asyncio.timeout(START_TIMEOUT):
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"exited with status {process.returncode}: {_log_tail(log)}")
            try:
                _, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                await asyncio.sleep(0.1)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return


async def _kosoku_port(process: asyncio.subprocess.Process, log: Path) -> int:
    """Read the port kosoku's fuzzing server bound from its log, bounded in time."""
    async with asyncio.timeout(START_TIMEOUT):
        while True:
            match = LISTENING.search(log.read_bytes())
            if match:
                return int(match.group(2))
            if process.returncode is not None:
                raise RuntimeError(f"exited with status {process.returncode}: {_log_tail(log)}")
            await asyncio.sleep(0.1)


async def _count_progress(
    process: asyncio.subprocess.Process, total: int | None, progress: Progress
) -> None:
    """Report progress for every case-done line ``process`` prints."""
    assert process.stdout is not None
    done = 0
    progress(done, total)
    async for line in process.stdout:
        if line.strip() == PROGRESS_MARK.encode():
            done += 1
            progress(done, total)


async def _fuzzingclient(
    target: str, selection: Selection, outdir: Path, runner: RunnerName, parallelism: int,
    total: int | None, progress: Progress,
) -> None:
    port = _free_port()
    server_log = outdir / "echo_server.log"
    command = _python("fuzz.autobahn.echo_server", target, port)
    async with _process(command, server_log, stdout=True) as server:
        try:
            await _wait_accepting(server, port, server_log)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"echo server did not start: {exc}") from exc
        counter = asyncio.create_task(_count_progress(server, total, progress))
        if runner == "wstest":
            spec = _wstest_spec("fuzzingclient", target, selection, outdir, f"ws://{HOST}:{port}")
            fuzzer = ["wstest", "-m", "fuzzingclient", "-s", str(spec)]
        else:
            fuzzer = [*_kosoku_command(), "-m", "fuzzingclient", f"{HOST}:{port}",
                      *_selection_args(selection), "-p", str(parallelism), "-o", str(outdir)]
        try:
            async with _process(fuzzer, outdir / f"{runner}.log") as fuzzing:
                await fuzzing.wait()
        finally:
            counter.cancel()
            await asyncio.wait([counter])


async def _fuzzingserver(
    target: str, selection: Selection, outdir: Path, runner: RunnerName, parallelism: int,
    total: int | None, progress: Progress,
) -> None:
    log = outdir / f"{runner}.log"
    if runner == "wstest":
        port = _free_port()
        spec = _wstest_spec("fuzzingserver", target, selection, outdir, f"ws://{HOST}:{port}")
        fuzzer = ["wstest", "-m", "fuzzingserver", "-s", str(spec)]
    else:
        fuzzer = [*_kosoku_command(), "-m", "fuzzingserver", f"{HOST}:0",
                  *_selection_args(selection), "-o", str(outdir)]
    async with _process(fuzzer, log) as fuzzing:
        try:
            if runner == "wstest":
                await _wait_accepting(fuzzing, port, log)
            else:
                port = await _kosoku_port(fuzzing, log)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{runner} fuzzingserver did not start: {exc}") from exc
        driver_log = outdir / "client_driver.log"
        command = _python("fuzz.autobahn.client_driver", target, port, "-p", str(parallelism))
        async with _process(command, driver_log, stdout=True) as driver:
            await _count_progress(driver, total, progress)
            if await driver.wait():
                raise RuntimeError(f"client driver failed: {_log_tail(driver_log)}")
        if runner == "kosoku":
            # kosoku ends the run after updateReports; wstest serves until stopped.
            async with asyncio.timeout(REPORT_TIMEOUT):
                await fuzzing.wait()


async def run(
    mode: Mode,
    target: str,
    selection: Selection,
    outdir: Path,
    *,
    runner: RunnerName,
    time_limit: float,
    parallelism: int = 2,
    total: int | None = None,
    progress: Progress = lambda done, total: None,
) -> Outcome:
    """Run ``mode`` against ``target`` within ``time_limit`` seconds, reports in ``outdir``.

    ``outdir`` is emptied first so that no stale report survives.
    """
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    start = time.monotonic()
    error = None
    try:
        async with asyncio.timeout(time_limit):
            if mode == "fuzzingclient":
                await _fuzzingclient(
                    target, selection, outdir, runner, parallelism, total, progress
                )
            else:
                await _fuzzingserver(
                    target, selection, outdir, runner, parallelism, total, progress
                )
    except TimeoutError:
        error = f"time limit of {time_limit:g} s exceeded"
    except RuntimeError as exc:
        error = str(exc)
    return Outcome(seconds=time.monotonic() - start, error=error)
