"""Autobahn fuzzingserver client on a target's ``connect()``.

Run ``python -m fuzz.autobahn.client_driver --target ROOT --port N``. It speaks the
protocol of Autobahn's fuzzingserver: ``getCaseCount``, then ``runCase`` for each case
(echoing every message until the server closes; ``-p`` cases at once), then
``updateReports``. The agent name is the target's root, so reports are filed under it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import sys
import types
from urllib.parse import quote

from fuzz.autobahn.settings import CONNECTION_OPTIONS, HOST, PROGRESS_MARK

__all__ = ["drive", "main"]

# Bounds for the control connections and for each case's handshakes. A case's own
# duration is bounded by the fuzzing server, which closes the connection.
OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
CONTROL_TIMEOUT = 30.0


async def _control(client: types.ModuleType, uri: str) -> str | None:
    """Connect to a control endpoint and return the first message, if any."""
    async with asyncio.timeout(CONTROL_TIMEOUT), client.connect(
        uri, open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT
    ) as ws:
        with contextlib.suppress(Exception):
            message = await ws.recv()
            return message if isinstance(message, str) else message.decode()
    return None


async def _run_case(client: types.ModuleType, uri: str) -> None:
    """Echo every message of one case until the connection closes."""
    # Failing the handshake or breaking the protocol is what some cases test; the
    # server records the outcome, so errors here are expected and ignored.
    with contextlib.suppress(Exception):
        async with client.connect(
            uri, open_timeout=OPEN_TIMEOUT, close_timeout=CLOSE_TIMEOUT, **CONNECTION_OPTIONS
        ) as ws:
            async for message in ws:
                await ws.send(message)


async def drive(
    target: str, host: str, port: int, parallelism: int = 1, progress: bool = False
) -> int:
    """Run every case the fuzzing server offers, ``parallelism`` at a time; return the count."""
    client = importlib.import_module(f"{target}.asyncio.client")
    base = f"ws://{host}:{port}"
    agent = quote(target)
    count_text = await _control(client, f"{base}/getCaseCount")
    if count_text is None:
        raise RuntimeError(f"{base}/getCaseCount sent no case count")
    count = int(count_text)
    cases = iter(range(1, count + 1))

    async def worker() -> None:
        # Workers share one iterator, so each case runs once, roughly in order.
        for case in cases:
            await _run_case(client, f"{base}/runCase?case={case}&agent={agent}")
            if progress:
                print(PROGRESS_MARK, flush=True)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(parallelism, count)):
            group.create_task(worker())
    await _control(client, f"{base}/updateReports?agent={agent}")
    return count


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and drive the fuzzing server."""
    parser = argparse.ArgumentParser(prog="python -m fuzz.autobahn.client_driver")
    parser.add_argument("--target", required=True, help="module root, e.g. websockets")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("-p", "--parallelism", type=int, default=1, help="cases run at once")
    parser.add_argument("--progress", action="store_true", help="print a line per case")
    args = parser.parse_args(argv)
    count = asyncio.run(
        drive(args.target, args.host, args.port, args.parallelism, args.progress)
    )
    print(f"{args.target}: ran {count} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
