"""Load: one server process holding many client connections, an echo on each, a broadcast.

The server runs in a process of its own (``loadserver``) so that its RSS is
measured alone; the clients are raw WebSocket clients in the test process.
Figures are reported, not asserted; every connection must be held, every
echo and every broadcast message must arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pathlib
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from ..raw import OP_TEXT, RawClient
from ..targets import Target
from . import harness

ROOT = pathlib.Path(__file__).resolve().parents[2]
ECHOES = 5
CONCURRENT_OPENS = 64
WAIT = 60.0
T = TypeVar("T")


@contextlib.asynccontextmanager
async def server_process(target: Target) -> AsyncIterator[tuple[int, int]]:
    """Run the target's load server; yield its pid and port; stop it on exit."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "conformance.reliability.loadserver", target.root,
        cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        async with asyncio.timeout(WAIT):
            port = int(await process.stdout.readline())
        yield process.pid, port
    finally:
        process.stdin.close()
        try:
            async with asyncio.timeout(WAIT):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def bounded(limit: asyncio.Semaphore, awaitable: Awaitable[T]) -> T:
    async with limit:
        return await awaitable


async def echo(client: RawClient, index: int) -> int:
    """Send ``ECHOES`` messages and count the echoes that match."""
    matched = 0
    for count in range(ECHOES):
        payload = f"{index}:{count}".encode()
        await client.send_frame(OP_TEXT, payload)
        frame = await client.read_frame(timeout=WAIT)
        matched += frame is not None and frame.payload == payload
    return matched


async def receives(client: RawClient, payload: bytes) -> bool:
    frame = await client.read_frame(timeout=WAIT)
    return frame is not None and frame.payload == payload


async def close(client: RawClient) -> None:
    with contextlib.suppress(Exception):
        await client.send_close(1000)
        await client.close_handshake(timeout=WAIT, reply=False)
    await client.aclose()


def succeeded(results: list[Any]) -> list[Any]:
    return [result for result in results if not isinstance(result, BaseException)]


async def test_load(target: Target) -> None:
    """Connections held, echoes and a broadcast to all, with the server's RSS."""
    total = harness.SIZES.connections
    harness.raise_fd_limit(total + 2_000)
    limit = asyncio.Semaphore(CONCURRENT_OPENS)
    figures: dict[str, Any] = {"connections": total}
    clients: list[RawClient] = []
    async with asyncio.timeout(WAIT * 10), server_process(target) as (pid, port):
        url = f"ws://127.0.0.1:{port}/"
        figures["server_rss_idle_mib"] = round(harness.rss(pid) / harness.MIB, 1)
        try:
            start = time.monotonic()
            opened = await asyncio.gather(
                *(bounded(limit, RawClient.connect(url, timeout=WAIT)) for _ in range(total)),
                return_exceptions=True,
            )
            clients = succeeded(opened)
            figures["open_seconds"] = round(time.monotonic() - start, 2)
            figures["held"] = sum(client.status == 101 for client in clients)

            start = time.monotonic()
            echoed = await asyncio.gather(
                *(echo(client, index) for index, client in enumerate(clients)),
                return_exceptions=True,
            )
            seconds = time.monotonic() - start
            figures["messages"] = sum(succeeded(echoed))
            figures["messages_per_second"] = round(figures["messages"] / seconds)

            await clients[0].send_frame(OP_TEXT, b"stats")
            stats = await clients[0].read_frame(timeout=WAIT)
            figures["server_open"] = json.loads(stats.payload)["open"] if stats else None
            figures["server_rss_held_mib"] = round(harness.rss(pid) / harness.MIB, 1)

            start = time.monotonic()
            await clients[0].send_frame(OP_TEXT, b"broadcast")
            delivered = await asyncio.gather(
                *(receives(client, b"broadcast") for client in clients), return_exceptions=True
            )
            figures["broadcast_seconds"] = round(time.monotonic() - start, 2)
            figures["broadcast_received"] = sum(result is True for result in delivered)
        finally:
            await asyncio.gather(*(bounded(limit, close(client)) for client in clients))
    figures["server_rss_per_connection_kib"] = round(
        (figures.get("server_rss_held_mib", 0) - figures["server_rss_idle_mib"])
        * 1024 / max(figures.get("held", 0), 1), 1,
    )
    harness.record(target, "load", figures)
    expected = {"held": total, "server_open": total, "messages": total * ECHOES,
                "broadcast_received": total}
    harness.expect(target, [f"{key}: {figures.get(key)} of {value}"
                            for key, value in expected.items() if figures.get(key) != value])
