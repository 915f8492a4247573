"""Echo server on a target's ``serve()``, the server under test in fuzzingclient mode.

Run ``python -m fuzz.autobahn.echo_server --target ROOT --port N``. It only uses the
websockets asyncio API surface, so any target exposing it plugs in unchanged. With
``--progress`` it prints one line per finished connection, which the runner counts to
show how many cases are done (kosoku opens one connection per case).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import signal
import sys
from typing import Any

from fuzz.autobahn.settings import CONNECTION_OPTIONS, HOST, PROGRESS_MARK

__all__ = ["main", "serve_echo"]


async def serve_echo(target: str, host: str, port: int, progress: bool = False) -> None:
    """Echo every message on ``target``'s server until SIGINT or SIGTERM."""
    server_module = importlib.import_module(f"{target}.asyncio.server")

    async def echo(ws: Any) -> None:
        # A peer breaking the protocol ends the loop with an exception: that is the
        # case being tested, not a server error.
        with contextlib.suppress(Exception):
            async for message in ws:
                await ws.send(message)
        if progress:
            print(PROGRESS_MARK, flush=True)

    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    async with server_module.serve(echo, host, port, **CONNECTION_OPTIONS):
        print(f"echo server for {target} listening on {host}:{port}", file=sys.stderr, flush=True)
        await stop


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m fuzz.autobahn.echo_server")
    parser.add_argument("--target", required=True, help="module root, e.g. websockets")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--progress", action="store_true", help="print a line per connection")
    args = parser.parse_args(argv)
    asyncio.run(serve_echo(args.target, args.host, args.port, args.progress))


if __name__ == "__main__":
    main()
