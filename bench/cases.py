"""The benchmark cases: what each one measures, between which client and which server."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]

from .clients import Channel, close_all, open_channel, open_many, rate
from .servers import ServerProcess
from .targets import RAW

__all__ = ["CASES", "Case", "Row", "Settings", "measure"]

KiB = 1024
MiB = 1024 * KiB

#: Seconds the server gets to settle before its memory is read.
SETTLE = 0.5


@dataclass(frozen=True)
class Settings:
    """How long and how big each measurement is."""

    duration: float = 0.5
    connections: int = 1000
    exchanges: int = 5


@dataclass(frozen=True)
class Row:
    """One line of results: what a case reports and which way is better."""

    case: str
    unit: str
    higher_is_better: bool = True


@dataclass(frozen=True)
class Case:
    """A workload between a client and a server, one of which is the target under test.

    ``group`` says which side runs the target: ``client`` (against a raw picows echo server),
    ``server`` (driven by a raw picows client), ``end-to-end`` (both sides), ``concurrency``
    (both sides, many connections) or ``memory`` (the server, idle connections from raw picows).
    """

    name: str
    group: str
    workload: str = "pipeline"
    loop: str = "asyncio"
    size: int = 256
    text: bool = False
    compression: str | None = None
    batch: int = 1
    rows: tuple[Row, ...] = ()

    def client(self, target: str) -> str:
        """Which implementation the client side runs."""
        return RAW if self.group in ("server", "memory") else target

    def server(self, target: str) -> str:
        """Which implementation the server side runs."""
        return RAW if self.group == "client" else target

    def supports(self, target: str) -> bool:
        """The raw picows core does not negotiate permessage-deflate."""
        return not (target == RAW and self.compression is not None)

    def message(self) -> bytes | str:
        """A deterministic payload of ``size`` bytes: compressible text, or random bytes."""
        generator = random.Random(self.size)
        if self.text:
            words = ("ping", "pong", "frame", "socket", '"id": 42', "true", "{", "}", "null")
            return " ".join(generator.choice(words) for _ in range(self.size))[: self.size]
        return generator.randbytes(self.size)


def _sized(size: int) -> str:
    return f"{size // MiB}m" if size >= MiB else f"{size // KiB}k" if size >= KiB else str(size)


def _echo(
    group: str,
    workload: str,
    size: int = 256,
    *,
    text: bool = False,
    compression: str | None = None,
    loop: str = "asyncio",
) -> Case:
    name = "-".join(
        [group, workload, "text" if text else "binary", _sized(size)]
        + (["deflate"] if compression else [])
    )
    unit = "msgs/s" if workload == "pipeline" else "round trips/s"
    batch = max(1, min(100, 2 * MiB // size)) if workload == "pipeline" else 1
    return Case(
        name,
        group,
        workload,
        loop=loop,
        size=size,
        text=text,
        compression=compression,
        batch=batch,
        rows=(Row(name, unit),),
    )


def _catalogue() -> tuple[Case, ...]:
    cases: list[Case] = []
    for group in ("client", "server"):
        cases += [_echo(group, "pipeline", size) for size in (256, 8 * KiB, 128 * KiB, MiB)]
        cases += [
            _echo(group, "pipeline", text=True),
            _echo(group, "pingpong"),
            _echo(group, "pingpong", text=True),
        ]
    for compression in (None, "deflate"):
        cases += [
            _echo("end-to-end", "pipeline", 8 * KiB, text=True, compression=compression),
            _echo("end-to-end", "pingpong", text=True, compression=compression),
        ]
    for group in ("client", "server"):
        cases += [_echo(group, workload, loop="uvloop") for workload in ("pipeline", "pingpong")]
    cases.append(
        Case(
            "concurrency",
            "concurrency",
            "concurrency",
            rows=(
                Row("concurrency-connect", "connections/s"),
                Row("concurrency-echo", "round trips/s"),
            ),
        )
    )
    cases.append(
        Case("memory", "memory", "memory", rows=(Row("memory-idle", "KiB/conn", False),))
    )
    return tuple(cases)


#: Every case, in the order they run and are reported.
CASES = _catalogue()


async def _echo_rate(case: Case, target: str, url: str, settings: Settings) -> float:
    channel = await open_channel(case.client(target), url, case.message(), case.compression)
    try:
        if case.workload == "pipeline":
            return await rate(lambda: channel.pipeline(case.batch), case.batch, settings.duration)
        return await rate(channel.round_trip, 1, settings.duration)
    finally:
        await channel.close()


async def _concurrency(case: Case, target: str, url: str, settings: Settings) -> list[float]:
    start = time.perf_counter()
    channels = await open_many(settings.connections, case.client(target), url, case.message())
    connected = time.perf_counter()
    try:

        async def exchange(channel: Channel) -> None:
            for _ in range(settings.exchanges):
                await channel.round_trip()

        await asyncio.gather(*(exchange(channel) for channel in channels))
        exchanged = time.perf_counter()
    finally:
        await close_all(channels)
    return [
        len(channels) / (connected - start),
        len(channels) * settings.exchanges / (exchanged - connected),
    ]


async def _memory(case: Case, server: ServerProcess, settings: Settings) -> float:
    process = psutil.Process(server.pid)
    warmup = await open_channel(RAW, server.url, case.message())
    await warmup.round_trip()
    await warmup.close()
    await asyncio.sleep(SETTLE)
    # The first connections partly reuse memory the server process freed earlier, by an amount
    # that depends on its history; a second batch of as many shows the steady cost.
    channels = await open_many(settings.connections, RAW, server.url, case.message())
    try:
        await asyncio.sleep(SETTLE)
        before = process.memory_info().rss
        more = await open_many(settings.connections, RAW, server.url, case.message())
        channels += more
        await asyncio.sleep(SETTLE)
        after = process.memory_info().rss
    finally:
        await close_all(channels)
    return float(after - before) / KiB / len(more)


async def measure(
    case: Case, target: str, server: ServerProcess, settings: Settings
) -> list[float]:
    """Run ``case`` once for ``target`` against ``server``; return one value per row."""
    if case.workload == "concurrency":
        return await _concurrency(case, target, server.url, settings)
    if case.workload == "memory":
        return [await _memory(case, server, settings)]
    return [await _echo_rate(case, target, server.url, settings)]
