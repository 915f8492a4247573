"""The registry of checks: scenarios (async functions of a client/server pairing returning a
trace) and the Hypothesis properties of ``fuzz/hypothesis``."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Literal, TypeVar

from . import raw, trace
from .targets import Target

__all__ = [
    "PROPERTIES",
    "SCENARIOS",
    "Pair",
    "Property",
    "Scenario",
    "generated_kind",
    "handling",
    "judged_ids",
    "register_property",
    "run",
    "scenario",
]

Sides = Literal["both", "client", "server"]

# Bound on one scenario run, and the default bound for waits inside it.
RUN_TIMEOUT = 20.0
WAIT_TIMEOUT = 2.0
# Small timeouts injected unless a scenario passes its own, to keep the suite fast.
CONNECTION_DEFAULTS = {"close_timeout": 0.5, "open_timeout": 2.0}


F = TypeVar("F", bound=Callable[..., object])

# What a target's trace of a check must hold whatever the reference does: the problems found.
Requirement = Callable[[Any], list[str]]


@dataclasses.dataclass
class Scenario:
    """A registered scenario.

    ``require`` holds every target but the reference to more than the reference's trace (no
    secret in the logs, say), on the runs where it is the only library; ``debug`` runs it with
    asyncio's debug mode on.
    """

    id: str
    function: Callable[[Pair], Awaitable[object]]
    feature: str
    seed: str | None
    sides: Sides
    title: str
    require: Requirement | None = None
    debug: bool = False


SCENARIOS: dict[str, Scenario] = {}


def scenario(
    feature: str,
    seed: str | None = None,
    sides: Sides = "both",
    id: str | None = None,
    title: str | None = None,
    prefix: str | None = None,
    require: Requirement | None = None,
    debug: bool = False,
) -> Callable[[Callable[..., Awaitable[object]]], Callable[..., Awaitable[object]]]:
    """Register ``async def fn(pair) -> trace``.

    ``sides`` says which side runs a target when the other is a raw peer. The id
    defaults to ``<prefix>.<function-name>`` with dashes, the prefix to the module's name.
    """

    def register(function: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
        module = prefix or function.__module__.rpartition(".")[2].replace("_", "-")
        name = getattr(function, "__name__", "scenario").replace("_", "-")
        scenario_id = id or f"{module}.{name}"
        if scenario_id in SCENARIOS:
            raise ValueError(f"duplicate scenario id: {scenario_id}")
        doc = title or (function.__doc__ or scenario_id).strip().splitlines()[0]
        SCENARIOS[scenario_id] = Scenario(
            scenario_id, function, feature, seed, sides, doc, require, debug
        )
        return function

    return register


def family(
    feature: str,
    cases: Iterable[tuple[str, str, dict[str, Any]]],
    seed: str | None = None,
    sides: Sides = "both",
    require: Requirement | None = None,
    debug: bool = False,
) -> Callable[[Callable[..., Awaitable[object]]], Callable[..., Awaitable[object]]]:
    """Register one scenario per ``(id, title, kwargs)`` case of a shared shape."""

    def register(function: Callable[..., Awaitable[object]]) -> Callable[..., Awaitable[object]]:
        for case_id, title, kwargs in cases:

            async def bound(pair: Pair, kwargs: dict[str, Any] = kwargs) -> object:
                return await function(pair, **kwargs)

            scenario(
                feature, seed, sides, id=case_id, title=title, require=require, debug=debug
            )(bound)
        return function

    return register


@dataclasses.dataclass(frozen=True)
class Property:
    """A registered Hypothesis property: generated examples, each run on the reference and on a
    target, judged like a scenario's runs.

    ``id`` is the property's name in ``hypothesis.json``; ``scenarios`` are the catalogue
    scenario ids its examples are judged under, which declarations name: the property's own,
    then one per kind of example the catalogue may declare differences for. A property checking
    expectations of its own rather than comparing traces has none.
    """

    id: str
    feature: str
    title: str
    scenarios: tuple[str, ...] = ()


PROPERTIES: dict[str, Property] = {}


def generated_kind(scenario: str, kind: str) -> str:
    """The id of a kind of example judged under ``scenario``, a ``<prefix>.generated.<side>``
    id: ``<prefix>.<kind>.generated.<side>``."""
    return scenario.replace("generated", f"{kind}.generated")


def register_property(
    id: str,
    feature: str,
    scenarios: Iterable[str] = (),
    kinds: Iterable[str] = (),
    title: str | None = None,
) -> Callable[[F], F]:
    """Register the property the decorated test function measures.

    Its examples are judged under ``scenarios`` and, for each of them, under the
    :func:`generated_kind` of each of ``kinds``. The title defaults to the first line of the
    function's docstring.
    """
    judged = tuple(scenarios)
    judged += tuple(generated_kind(base, kind) for base in judged for kind in kinds)

    def register(function: F) -> F:
        doc = title or (function.__doc__ or id).strip().splitlines()[0]
        record = Property(id, feature, doc, judged)
        if PROPERTIES.setdefault(id, record) != record:
            raise ValueError(f"duplicate property id: {id}")
        return function

    return register


def judged_ids() -> list[str]:
    """Every scenario id a registered check is judged under: the scenarios', then the
    properties'."""
    return [*SCENARIOS, *(case for check in PROPERTIES.values() for case in check.scenarios)]


class LogRecords(logging.Handler):
    """Collects warnings and errors logged while a scenario runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# Addresses in log messages vary from run to run.
ADDRESS = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d+")

# Whole log messages holding what else varies from run to run or from library to library, and
# what replaces it: the key and accept values of the opening handshake, the date of a response,
# the default User-Agent and Server values (they name the interpreter, the library and their
# versions), and the payload of 4-byte pings and pongs, the size of random ones.
VARYING = [
    (re.compile(r"([<>] Sec-WebSocket-(?:Key|Accept): ).*", re.IGNORECASE), r"\1VALUE"),
    (re.compile(r"([<>] Date: ).*", re.IGNORECASE), r"\1DATE"),
    (
        re.compile(r"([<>] (?:User-Agent|Server): )Python/\d+\.\d+ [^ /]+/[^ ]+", re.IGNORECASE),
        r"\1DEFAULT",
    ),
    (re.compile(r"([<>] P[IO]NG ).* \[(?:text|binary), 4 bytes\]"), r"\1[4 bytes]"),
]


def normalised(message: str) -> str:
    """``message`` with its addresses and any value :data:`VARYING` lists replaced."""
    for pattern, replacement in VARYING:
        match = pattern.fullmatch(message)
        if match is not None:
            message = match.expand(replacement)
            break
    return ADDRESS.sub("ADDRESS", message)


Handler = TypeVar("Handler", bound=logging.Handler)


@contextlib.contextmanager
def handling(handler: Handler, logger: logging.Logger, level: int) -> Iterator[Handler]:
    """Attach ``handler`` to ``logger`` meanwhile, letting records from ``level`` up through."""
    previous = logger.level
    logger.addHandler(handler)
    if previous == logging.NOTSET or level < previous:
        logger.setLevel(level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


class LogWatch(logging.Handler):
    """Records of the ``websockets`` loggers, at every level, while a scenario watches them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def trace(self, logger: str | None = None) -> dict[str, Any]:
        """The records of ``logger``, or of each logger by name, :func:`normalised`.

        ``server`` lists the records logged outside connections: the server's own (the client's
        reconnection notices for ``websockets.client``), and the first state line of each
        connection, which websockets logs before the connection exists.
        ``connections`` lists the records logged with a connection in ``extra``, one connection
        after the other, in the order they first logged. Each connection's records are in order,
        but how they interleave with other connections' and the server's depends on event loop
        scheduling, so the trace doesn't record it.
        """
        if logger is None:
            return {name: self.trace(name) for name in sorted({r.name for r in self.records})}
        server: list[dict[str, Any]] = []
        connections: dict[int, list[dict[str, Any]]] = {}
        for record in self.records:
            if record.name != logger:
                continue
            entry = {
                "logger": record.name,
                "level": record.levelname,
                "message": normalised(record.getMessage()),
                "exc": (
                    trace.exception(record.exc_info[1])
                    if record.exc_info and record.exc_info[1] is not None
                    else None
                ),
            }
            if hasattr(record, "websocket"):
                connections.setdefault(id(record.websocket), []).append(entry)
            else:
                server.append(entry)
        return {
            "server": server,
            "connections": [e for c in connections.values() for e in requests_grouped(c)],
        }


# A handshake request line and a header line, as websockets logs them at DEBUG.
REQUEST_LINE = re.compile(r"[<>] \S+ \S+ HTTP/\S+")
HEADER_LINE = re.compile(r"[<>] [^ :]+: ")


def requests_grouped(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``entries`` with the header lines that follow each request line made one entry.

    The entry holds the lines sorted and, apart, the header names in order: the client writing
    the request decides that order, which can then differ without hiding any other difference.
    """
    result: list[dict[str, Any]] = []
    group: dict[str, Any] | None = None
    for entry in entries:
        message = entry["message"]
        if group is not None and HEADER_LINE.match(message):
            group["headers"].append(message)
            group["order"].append(message.partition(":")[0])
            continue
        group = None
        result.append(entry)
        if REQUEST_LINE.fullmatch(message):
            group = {"logger": entry["logger"], "level": entry["level"], "headers": [], "order": []}
            result.append(group)
    for entry in result:
        if "headers" in entry:
            entry["headers"].sort()
    return result


class Pair:
    """The client and server targets of one run, with helpers that never name a library.

    A None target means that side is played by a raw peer.
    """

    def __init__(self, client: Target | None, server: Target | None) -> None:
        self.client_target = client
        self.server_target = server
        self.timeout = WAIT_TIMEOUT
        self.logs = LogRecords()

    @staticmethod
    def _side(target: Target | None, side: str) -> Target:
        if target is None:
            raise RuntimeError(f"this scenario's {side} is a raw peer")
        return target

    @property
    def client_module(self) -> types.ModuleType:
        return self._side(self.client_target, "client").client

    @property
    def server_module(self) -> types.ModuleType:
        return self._side(self.server_target, "server").server

    @property
    def router_module(self) -> types.ModuleType:
        return self._side(self.server_target, "server").router

    @property
    def client_exc(self) -> types.ModuleType:
        return self._side(self.client_target, "client").exceptions

    @property
    def server_exc(self) -> types.ModuleType:
        return self._side(self.server_target, "server").exceptions

    @property
    def client_extensions(self) -> types.ModuleType:
        return self._side(self.client_target, "client").extensions

    @property
    def server_extensions(self) -> types.ModuleType:
        return self._side(self.server_target, "server").extensions

    @property
    def client_deflate(self) -> types.ModuleType:
        return self._side(self.client_target, "client").permessage_deflate

    @property
    def server_deflate(self) -> types.ModuleType:
        return self._side(self.server_target, "server").permessage_deflate

    async def catch(self, awaitable: Awaitable[object], timeout: float | None = None) -> Any:
        """Outcome of ``awaitable`` as trace data, bounded by ``timeout``."""

        async def bounded() -> object:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                return await awaitable

        return await trace.outcome(bounded())

    @staticmethod
    def url(server: Any, path: str = "/") -> str:
        """ws:// URL of a server listening on 127.0.0.1."""
        port = next(iter(server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}{path}"

    async def stop(self, server: Any) -> None:
        """Close ``server`` and wait, bounded, until it is closed."""
        server.close()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.timeout * 2):
                await server.wait_closed()

    @contextlib.asynccontextmanager
    async def serving(self, handler: Callable[..., Any], **kwargs: Any) -> AsyncIterator[Any]:
        """Run the server target on 127.0.0.1, yielding the server object."""
        for key, value in CONNECTION_DEFAULTS.items():
            kwargs.setdefault(key, value)
        kwargs.setdefault("host", "127.0.0.1")
        kwargs.setdefault("port", 0)
        server = await self.server_module.serve(handler, **kwargs)
        try:
            yield server
        finally:
            await self.stop(server)

    @contextlib.asynccontextmanager
    async def serve(
        self, handler: Callable[..., Any], path: str = "/", **kwargs: Any
    ) -> AsyncIterator[str]:
        """Run the server target on 127.0.0.1, yielding its URL."""
        async with self.serving(handler, **kwargs) as server:
            yield self.url(server, path)

    @contextlib.asynccontextmanager
    async def connect(self, url: str, **kwargs: Any) -> AsyncIterator[Any]:
        """Connect the client target to ``url``, yielding the connection."""
        for key, value in CONNECTION_DEFAULTS.items():
            kwargs.setdefault(key, value)
        async with self.client_module.connect(url, **kwargs) as connection:
            yield connection

    @contextlib.asynccontextmanager
    async def serve_raw(
        self,
        script: raw.Script | None = None,
        respond: raw.Respond = raw.default_response,
    ) -> AsyncIterator[raw.RawServer]:
        """Run a raw server (see :class:`raw.RawServer`); its ``url`` is ready to connect.

        An exception in the script is a harness failure: it is raised on exit.
        """
        async with raw.RawServer(script, respond, self.timeout) as server:
            yield server
        if server.errors:
            raise RuntimeError(f"raw server script failed: {'; '.join(server.errors)}")

    @contextlib.asynccontextmanager
    async def connect_raw(self, url: str, **kwargs: Any) -> AsyncIterator[raw.RawClient]:
        """Connect a raw client to ``url`` (see :meth:`raw.RawClient.connect`)."""
        kwargs.setdefault("timeout", self.timeout)
        client = await raw.RawClient.connect(url, **kwargs)
        try:
            yield client
        finally:
            await client.aclose()

    @contextlib.contextmanager
    def watching_logs(self) -> Iterator[LogWatch]:
        """Record what the ``websockets`` loggers (both sides, all targets) log meanwhile."""
        with handling(LogWatch(), logging.getLogger("websockets"), logging.DEBUG) as watch:
            yield watch

    def logged_errors(self) -> list[dict[str, Any]]:
        """Errors logged so far: level and the exception class of the traceback, if any."""
        return [
            {
                "level": record.levelname,
                "traceback": (
                    record.exc_info[0].__name__
                    if record.exc_info and record.exc_info[0] is not None
                    else None
                ),
            }
            for record in self.logs.records
            if record.levelno >= logging.ERROR
        ]


async def run(
    case: Scenario, client: Target | None, server: Target | None
) -> tuple[object, float]:
    """Run ``case`` on a pairing; return its trace as plain data and the duration."""
    pair = Pair(client, server)
    root = logging.getLogger()
    root.addHandler(pair.logs)
    loop = asyncio.get_running_loop()
    debugging = loop.get_debug()
    loop.set_debug(debugging or case.debug)
    start = time.monotonic()
    try:
        async with asyncio.timeout(RUN_TIMEOUT):
            result = await case.function(pair)
    finally:
        loop.set_debug(debugging)
        root.removeHandler(pair.logs)
    return trace.data(result), time.monotonic() - start
