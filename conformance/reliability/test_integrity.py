"""Integrity: many messages over many connections arrive once, in order, intact.

Each message carries a sequence number and a CRC-32 of its body; sizes are
log-uniform from 0 to 64 KiB, a quarter of the messages are sent fragmented at
random points, a fifth are text with non-ASCII characters, and half of the
connections negotiate permessage-deflate. Half of the connections send from the
client, half from the server.

Keepalive is off: with every connection saturated, megabytes of queued data sit
in front of a pong and both websockets and compat time out pings, as they
should; keepalive has its own checks in ``conformance/scenarios/faults.py``.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import random
import struct
import time
import zlib
from collections.abc import Iterator
from typing import Any

from ..scenario import Pair
from ..targets import Target
from . import harness

MAX_SIZE = 1 << 16
HEADER = struct.Struct("!QI")
TEXT_HEADER = 24
ALPHABET = "abcdefghijklmnopqrstuvwxyz 0123456789éüß€中文😀"
WAIT = 60.0


class Payloads:
    """Deterministic random message bodies cut from pre-generated pools."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        pools = random.Random(0)
        self.binary = pools.randbytes(4 * MAX_SIZE)
        self.text = "".join(pools.choices(ALPHABET, k=4 * MAX_SIZE))

    def size(self) -> int:
        return int(MAX_SIZE ** self.random.random()) - 1

    def message(self, seq: int) -> str | bytes:
        """Message ``seq``: header with the sequence number and CRC, then the body."""
        size, offset = self.size(), self.random.randrange(MAX_SIZE)
        if self.random.random() < 0.2:
            body = self.text[offset : offset + size]
            return f"{seq:016x}{zlib.crc32(body.encode()):08x}" + body
        data = self.binary[offset : offset + size]
        return HEADER.pack(seq, zlib.crc32(data)) + data

    def fragments(self, message: str | bytes) -> list[Any] | None:
        """Random split points for a quarter of the messages, else None."""
        if self.random.random() >= 0.25 or len(message) < 2:
            return None
        cuts = sorted(self.random.sample(range(1, len(message)), min(4, len(message) - 1)))
        return [message[start:end] for start, end in itertools.pairwise([0, *cuts, len(message)])]


def parse(message: str | bytes) -> tuple[int, bool]:
    """Sequence number and whether the CRC matches."""
    if isinstance(message, str):
        seq, crc = int(message[:16], 16), int(message[16:TEXT_HEADER], 16)
        return seq, zlib.crc32(message[TEXT_HEADER:].encode()) == crc
    seq, crc = HEADER.unpack_from(message)
    return seq, zlib.crc32(memoryview(message)[HEADER.size :]) == crc


class Tally:
    """Counts of what receivers saw."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.bytes = 0

    async def receive(self, ws: Any, count: int) -> None:
        """Receive ``count`` messages expecting sequence numbers 0, 1, 2, ..."""
        seen: set[int] = set()
        expected = 0
        try:
            for _ in range(count):
                async with asyncio.timeout(WAIT):
                    message = await ws.recv()
                self.bytes += len(message)
                seq, intact = parse(message)
                self.counts["received"] += 1
                if not intact:
                    self.counts["corrupted"] += 1
                if seq in seen:
                    self.counts["duplicated"] += 1
                elif seq != expected:
                    self.counts["reordered"] += 1
                seen.add(seq)
                expected = seq + 1
        finally:
            self.counts["lost"] += count - len(seen)


async def send_all(ws: Any, payloads: Payloads, count: int) -> None:
    """Send ``count`` messages, some fragmented."""
    for seq in range(count):
        message = payloads.message(seq)
        fragments = payloads.fragments(message)
        await ws.send(message if fragments is None else iter(fragments))


def plan(connections: int) -> Iterator[tuple[int, str | None, bool]]:
    """Per connection: index, compression, and whether the client sends."""
    for index in range(connections):
        yield index, "deflate" if index % 2 else None, index % 4 < 2


async def test_integrity(target: Target) -> None:
    """Every message arrives exactly once, in order and intact, on every connection."""
    pair = Pair(target, target)
    sizes = harness.SIZES
    per = sizes.messages // sizes.integrity_connections
    tally = Tally()

    async def handler(ws: Any) -> None:
        index, client_sends = map(int, (await ws.recv()).split())
        if client_sends:
            await tally.receive(ws, per)
        else:
            await send_all(ws, Payloads(index), per)
        await ws.send("done")
        await ws.wait_closed()

    async def client(url: str, index: int, compression: str | None, client_sends: bool) -> None:
        async with pair.connect(url, compression=compression, open_timeout=WAIT,
                                max_size=2 * MAX_SIZE, ping_interval=None) as ws:
            await ws.send(f"{index} {int(client_sends)}")
            if client_sends:
                await send_all(ws, Payloads(index), per)
            else:
                await tally.receive(ws, per)
            async with asyncio.timeout(WAIT):
                assert await ws.recv() == "done"

    start = time.monotonic()
    # Bounded, assuming at least 200 messages per second.
    async with asyncio.timeout(WAIT + sizes.messages / 200), pair.serve(
        handler, max_size=2 * MAX_SIZE, ping_interval=None
    ) as url:
        results = await asyncio.gather(
            *(client(url, *entry) for entry in plan(sizes.integrity_connections)),
            return_exceptions=True,
        )
    seconds = time.monotonic() - start
    failures = [f"{type(exc).__name__}: {exc}" for exc in results if exc is not None]
    counts = {key: tally.counts[key] for key in
              ("received", "lost", "duplicated", "reordered", "corrupted")}
    harness.record(target, "integrity", {
        "connections": sizes.integrity_connections,
        "messages": per * sizes.integrity_connections,
        **counts,
        "connection_failures": len(failures),
        "seconds": round(seconds, 2),
        "messages_per_second": round(counts["received"] / seconds),
        "megabytes": round(tally.bytes / harness.MIB, 1),
    })
    problems = [f"{key}: {value}" for key, value in counts.items()
                if key != "received" and value]
    if counts["received"] != per * sizes.integrity_connections:
        problems.append(f"received {counts['received']} of {per * sizes.integrity_connections}")
    harness.expect(target, problems + failures[:5])
