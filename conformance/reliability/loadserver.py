"""A target's echo server in a process of its own, so that its RSS is measured alone.

``python -m conformance.reliability.loadserver ROOT`` prints the port on the
first line of its output and serves until its standard input closes. The text
message ``broadcast`` sends ``broadcast`` to every connection with the target's
``broadcast()``; ``stats`` answers with the number of open connections as JSON;
anything else is echoed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import sys
from typing import Any

from .harness import quiet_slow_callbacks, raise_fd_limit

FD_LIMIT = 30_000


async def main(root: str) -> None:
    raise_fd_limit(FD_LIMIT)
    quiet_slow_callbacks()
    server_module = importlib.import_module(f"{root}.asyncio.server")
    connections: set[Any] = set()

    async def handler(ws: Any) -> None:
        connections.add(ws)
        try:
            with contextlib.suppress(Exception):
                async for message in ws:
                    if message == "broadcast":
                        server_module.broadcast(connections, "broadcast")
                    elif message == "stats":
                        await ws.send(json.dumps({"open": len(connections)}))
                    else:
                        await ws.send(message)
        finally:
            connections.discard(ws)

    server = await server_module.serve(
        handler, "127.0.0.1", 0, ping_interval=None, close_timeout=1, open_timeout=60
    )
    port = next(iter(server.sockets)).getsockname()[1]
    print(port, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    server.close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
