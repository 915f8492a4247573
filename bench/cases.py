"""The benchmark cases: what each one measures, between which client and which server."""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psutil

from . import usage
from .clients import Channel, close_all, open_channel, open_many, rate
from .servers import ServerProcess
from .targets import RAW

__all__ = ["CASES", "Case", "Cost", "Row", "Sample", "Settings", "measure"]

KiB = 1024
MiB = 1024 * KiB

#: Seconds the server gets to settle before its memory is read.
SETTLE = 0.5

#: Window bits of permessage-deflate in the ``-deflate`` cases, for every target: what
#: ``compression="deflate"`` negotiates in websockets and compat, which every target can reach.
DEFLATE_WINDOW_BITS = 12

#: Slow consumer: messages in flight per batch, and seconds the receiver sleeps before each.
SLOW_BATCH = 32
SLOW_PAUSE = 0.002


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
    deflate: int | None = None
    """Window bits of permessage-deflate, negotiated the same for every target; ``None``: off."""
    tls: bool = False
    batch: int = 1
    pause: float = 0.0
    """Seconds a slow consumer sleeps before each receive."""
    peak: bool = False
    """Whether to record the peak memory of both processes."""
    rows: tuple[Row, ...] = ()

    def client(self, target: str) -> str:
        """Which implementation the client side runs."""
        return RAW if self.group in ("server", "memory") else target

    def server(self, target: str) -> str:
        """Which implementation the server side runs."""
        return RAW if self.group == "client" else target

    @property
    def side(self) -> str:
        """Whose cost is the target's: ``client``, ``server`` or ``total`` (both processes)."""
        return self.group if self.group in ("client", "server") else "total"

    def unsupported(self, target: str) -> str | None:
        """Why ``target`` can't run this case, or ``None`` if it can."""
        if target != RAW:
            return None
        if self.deflate is not None:
            return "the raw picows core does not implement permessage-deflate"
        if self.pause:
            return "the raw picows core has no recv() to pause: frames reach it through callbacks"
        return None

    def config(self) -> dict[str, Any]:
        """How the echo workload is set up, for the results file."""
        config: dict[str, Any] = {"size": self.size, "batch": self.batch, "tls": self.tls}
        if self.deflate is not None:
            config["deflate_window_bits"] = self.deflate
        if self.pause:
            config["pause"] = self.pause
        return config

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
    deflate: int | None = None,
    tls: bool = False,
    peak: bool = False,
    loop: str = "asyncio",
) -> Case:
    name = "-".join(
        [group, workload, "text" if text else "binary", _sized(size)]
        + (["deflate"] if deflate else [])
        + (["wss"] if tls else [])
    )
    unit = "round trips/s" if workload == "pingpong" else "msgs/s"
    batch = {"pipeline": max(1, min(100, 2 * MiB // size)), "slow-consumer": SLOW_BATCH}
    return Case(
        name,
        group,
        workload,
        loop=loop,
        size=size,
        text=text,
        deflate=deflate,
        tls=tls,
        batch=batch.get(workload, 1),
        pause=SLOW_PAUSE if workload == "slow-consumer" else 0.0,
        peak=peak,
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
    for deflate in (None, DEFLATE_WINDOW_BITS):
        cases += [
            _echo("end-to-end", "pipeline", 8 * KiB, text=True, deflate=deflate),
            _echo("end-to-end", "pingpong", text=True, deflate=deflate),
        ]
    cases += [_echo("end-to-end", "pipeline", size, tls=True) for size in (256, 64 * KiB)]
    cases += [_echo("end-to-end", "pipeline", size, peak=True) for size in (MiB, 16 * MiB)]
    cases.append(_echo("end-to-end", "slow-consumer", MiB, peak=True))
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


@dataclass(frozen=True)
class Cost:
    """What the client and the server spent over a measured window of ``messages`` echoes."""

    messages: int
    size: int
    client: usage.Usage
    server: usage.Usage

    def figures(self, peak: bool) -> dict[str, dict[str, float]]:
        """Per message and per MiB figures of each side and of both (``total``).

        A MiB is one MiB of messages echoed, which crosses the connection twice.
        """
        mib = self.messages * self.size / MiB
        cpu = {"client": self.client.cpu, "server": self.server.cpu}
        figures = {
            "cpu_us_per_msg": _per(cpu, self.messages / 1e6),
            "cpu_ms_per_mib": _per(cpu, mib / 1e3),
        }
        if self.client.syscalls is not None and self.server.syscalls is not None:
            calls = {"client": self.client.syscalls, "server": self.server.syscalls}
            figures["syscalls_per_msg"] = _per(calls, self.messages)
        if peak and self.client.peak_rss is not None and self.server.peak_rss is not None:
            figures["peak_rss_mib"] = {
                "client": self.client.peak_rss / MiB,
                "server": self.server.peak_rss / MiB,
            }
        return figures


def _per(values: Mapping[str, float], divisor: float) -> dict[str, float]:
    per = {side: value / divisor for side, value in values.items()}
    return {**per, "total": sum(per.values())}


@dataclass(frozen=True)
class Sample:
    """One measurement: a value per row, the cost of echo workloads, the extension negotiated."""

    values: list[float]
    cost: Cost | None = None
    extension: str | None = None


class Meter:
    """Counters of the client (this process) and of the server around a measured window."""

    def __init__(self, server: ServerProcess, case: Case) -> None:
        self.server = server
        self.case = case
        self.cost: Cost | None = None
        self._client = self._server = usage.Usage(0.0, None, None)

    def open(self) -> None:
        if self.case.peak:
            usage.reset_peak()
        self._server = self.server.usage(reset=self.case.peak)
        self._client = usage.snapshot()

    def close(self, units: int) -> None:
        client = usage.snapshot().since(self._client)
        server = self.server.usage().since(self._server)
        self.cost = Cost(units, self.case.size, client, server)


async def _echo_rate(case: Case, target: str, server: ServerProcess, settings: Settings) -> Sample:
    channel = await open_channel(case.client(target), server.url, case.message(), case.deflate)
    operation: Callable[[], Awaitable[None]] = channel.round_trip
    if case.workload == "pipeline":
        operation = functools.partial(channel.pipeline, case.batch)
    elif case.workload == "slow-consumer":
        operation = functools.partial(channel.slow_pipeline, case.batch, case.pause)
    meter = Meter(server, case)
    try:
        value = await rate(operation, case.batch, settings.duration, meter)
    finally:
        await channel.close()
    return Sample([value], meter.cost, channel.extension)


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


async def measure(case: Case, target: str, server: ServerProcess, settings: Settings) -> Sample:
    """Run ``case`` once for ``target`` against ``server``: one value per row, and costs."""
    if case.workload == "concurrency":
        return Sample(await _concurrency(case, target, server.url, settings))
    if case.workload == "memory":
        return Sample([await _memory(case, server, settings)])
    return await _echo_rate(case, target, server, settings)
