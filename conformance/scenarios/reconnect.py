"""async for ws in connect(...): which errors are retried, backoff, custom process_exception."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
import socket
from collections.abc import Callable, Generator
from typing import Any

from .. import trace
from ..raw import OP_TEXT, RawConnection, Request, default_response, http_response
from ..scenario import Pair, family, scenario
from ._shapes import hold

# A bound on connection attempts in one scenario, whatever the implementation retries.
MAX_ATTEMPTS = 12
DELAY = 0.01
# Long enough that only a server that never answers makes an attempt time out, even under load.
OPEN_TIMEOUT = 1.0

# How a raw server answers one attempt: a status (101 accepts), "eof" (close without
# answering), "silent" (never answer) or "garbage" (not HTTP).
Answer = int | str


class Attempts:
    """A raw server's answers, one per connection, and what the client made of them."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.given: list[Answer] = []
        self.seen: list[Any] = []
        self.factory_calls = 0
        self.delays_used = 0
        self.log = LogMessages()

    def respond(self, request: Request) -> bytes | None:
        answer = self.answers[min(len(self.given), len(self.answers) - 1)]
        self.given.append(answer)
        if answer == 101:
            return default_response(request)
        if answer == "eof":
            return b""
        if answer == "silent":
            return None
        if answer == "garbage":
            return b"hello world\r\n\r\n"
        assert isinstance(answer, int)
        return http_response(answer, reason="Nope", body=b"nope\n")

    async def script(self, conn: RawConnection) -> None:
        """After an accepted upgrade, greet the client, then finish the close handshake."""
        if self.given and self.given[-1] == 101:
            await conn.send_frame(OP_TEXT, f"attempt {len(self.given)}".encode())
            await conn.close_handshake()

    def delays(self) -> Generator[float]:
        """Tiny reconnection delays, counting how often backoff starts and advances."""
        self.factory_calls += 1
        while True:
            self.delays_used += 1
            yield DELAY

    def recording(
        self, decide: Callable[[Exception], Exception | None]
    ) -> Callable[[Exception], Exception | None]:
        """Wrap a process_exception to record each exception it sees, up to MAX_ATTEMPTS."""

        def process_exception(exc: Exception) -> Exception | None:
            self.seen.append(exception_view(exc))
            if len(self.seen) >= MAX_ATTEMPTS:
                return exc
            return decide(exc)

        return process_exception

    def view(self) -> dict[str, Any]:
        """Everything recorded, as trace data."""
        return {
            "answers": [str(answer) for answer in self.given],
            "process_exception": self.seen,
            "backoff_started": self.factory_calls,
            "delays_used": self.delays_used,
            "logged": self.log.messages,
        }


QUALIFIED = re.compile(r"[\w.]*exceptions\.")


class LogMessages(logging.Handler):
    """Messages logged by the client, for its reconnection notices."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "reconnect" in message:
            # Exception classes are qualified with the library's module path.
            self.messages.append(QUALIFIED.sub("", message))


def exception_view(exc: BaseException) -> Any:
    """An exception with its status code, if any, and the class of its cause."""
    view = trace.exception(exc)
    cause = exc.__cause__
    view["cause"] = None if cause is None else type(cause).__name__
    return view


async def iterate(
    pair: Pair,
    url: str,
    attempts: Attempts,
    decide: Callable[[Exception], Exception | None] | None = None,
    connections: int = 1,
    **kwargs: Any,
) -> Any:
    """Iterate over connect(url) until ``connections`` connections opened or it raises.

    Each connection receives one message; the trace has those, the final
    outcome and what ``attempts`` recorded.
    """
    logger = logging.getLogger(f"conformance.reconnect.{id(attempts)}")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(attempts.log)
    logger.propagate = False
    default = pair.client_module.process_exception
    iterator = aiter(pair.client_module.connect(
        url,
        process_exception=attempts.recording(decide or default),
        reconnect_delays=attempts.delays,
        logger=logger,
        open_timeout=OPEN_TIMEOUT,
        close_timeout=0.5,
        **kwargs,
    ))
    received: list[Any] = []

    async def loop() -> str:
        async for ws in iterator:
            received.append(await pair.catch(ws.recv()))
            if len(received) == connections:
                return "done"
        return "exhausted"

    try:
        async with asyncio.timeout(pair.timeout * 4):
            outcome: Any = {"result": await loop()}
    except Exception as exc:
        outcome = exception_view(exc)
    finally:
        with contextlib.suppress(Exception):
            await iterator.aclose()
        logger.removeHandler(attempts.log)
    return {"outcome": outcome, "received": received, **attempts.view()}


async def against_raw(pair: Pair, answers: list[Answer], **kwargs: Any) -> Any:
    """:func:`iterate` against a raw server giving ``answers``."""
    attempts = Attempts(answers)
    async with pair.serve_raw(attempts.script, attempts.respond) as server:
        return await iterate(pair, server.url, attempts, **kwargs)


RETRY_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("reconnect.retries-server-errors", "500, 502, 503 and 504 are retried",
     {"answers": [500, 502, 503, 504, 101]}),
    ("reconnect.retries-eof", "a connection closed before the response is retried",
     {"answers": ["eof", "eof", 101]}),
    ("reconnect.retries-timeout", "an opening handshake timing out is retried",
     {"answers": ["silent", 101]}),
    ("reconnect.backoff-resets", "backoff starts again after a successful connection",
     {"answers": [503, 101, 503, 503, 101], "connections": 2}),
    ("reconnect.gives-up", "a retried error repeated many times: process_exception decides",
     {"answers": [503]}),
    *(
        (f"reconnect.raises-{status}", f"HTTP {status} is raised, not retried",
         {"answers": [status, 101]})
        for status in (400, 401, 403, 404, 501)
    ),
    ("reconnect.raises-garbage", "a response that isn't HTTP is raised, not retried",
     {"answers": ["garbage", 101]}),
]


@family("connect", RETRY_CASES, sides="client")
async def default_policy(pair: Pair, answers: list[Answer], connections: int = 1) -> Any:
    """The default process_exception against a raw server answering each attempt in turn."""
    return await against_raw(pair, answers, connections=connections)


def retry_403(exc: Exception) -> Exception | None:
    """Retry HTTP 403 too; raise everything else."""
    response = getattr(exc, "response", None)
    return None if getattr(response, "status_code", None) == 403 else exc


def give_up(exc: Exception) -> Exception | None:
    """Replace every exception with a RuntimeError."""
    return RuntimeError("giving up")


def raise_instead(exc: Exception) -> Exception | None:
    """Raise rather than return, a frequent mistake websockets tolerates."""
    raise ValueError("raised by process_exception")


def never_retry(exc: Exception) -> Exception | None:
    """Return the exception itself: raise it unchanged."""
    return exc


CUSTOM_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("reconnect.custom-retries-403", "a custom process_exception retrying 403",
     {"answers": [403, 403, 101], "decide": retry_403}),
    ("reconnect.custom-replaces", "a custom process_exception returning another exception",
     {"answers": [503, 101], "decide": give_up}),
    ("reconnect.custom-raises", "a custom process_exception that raises",
     {"answers": [503, 101], "decide": raise_instead}),
    ("reconnect.custom-never-retries", "a custom process_exception returning its argument",
     {"answers": [503, 101], "decide": never_retry}),
]


@family("connect", CUSTOM_CASES, sides="client")
async def custom_policy(
    pair: Pair, answers: list[Answer], decide: Callable[[Exception], Exception | None]
) -> Any:
    """A custom process_exception against a raw server answering each attempt in turn."""
    return await against_raw(pair, answers, decide=decide)


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens (just released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@scenario("connect")
async def retries_connection_refused(pair: Pair) -> Any:
    """Connection refused (OSError) is retried until a server starts listening."""
    port = free_port()
    attempts = Attempts([101])
    url = f"ws://127.0.0.1:{port}/"
    failed = asyncio.Event()
    default: Callable[[Exception], Exception | None] = pair.client_module.process_exception

    def decide(exc: Exception) -> Exception | None:
        failed.set()
        return default(exc)

    async def greet(ws: Any) -> None:
        await ws.send("hello")
        await hold(ws)

    client = asyncio.create_task(iterate(pair, url, attempts, decide=decide))
    try:
        async with asyncio.timeout(pair.timeout):
            await failed.wait()
        async with pair.serve(greet, port=port):
            view = await client
    finally:
        client.cancel()
    # How many refusals happen before the server listens depends on timing.
    refused = view["process_exception"]
    view["process_exception"] = sorted({item["exception"] for item in refused})
    view["delays_used"] = view["delays_used"] == len(refused)
    view["logged"] = len(view["logged"]) == len(refused)
    return view


@scenario("connect", sides="client")
async def default_backoff(pair: Pair) -> Any:
    """The default backoff: a random first delay, then exponential from 3.1 s up to 90 s; and
    with other bounds and factors, a minimum at or above the maximum among them."""
    delays = list(itertools.islice(pair.client_module.backoff(), 14))
    others = [
        list(itertools.islice(pair.client_module.backoff(*arguments), 12))[1:]
        for arguments in [(0, 1, 2, 1.5), (5, 0.5, 0.5, 2), (1, 3, 1, 2), (1, 0.1, 1, 1.1)]
    ]
    return {"first_in_range": 0 <= delays[0] < 5, "then": delays[1:], "others": others}


def candidates(pair: Pair) -> list[tuple[str, Exception]]:
    """Exceptions a connection attempt may raise, built with the client target's classes."""
    exc = pair.client_exc
    target = pair.client_target
    assert target is not None
    http11, datastructures = target.module("http11"), target.module("datastructures")

    def status(code: int) -> Exception:
        response = http11.Response(code, "Status", datastructures.Headers(), b"")
        error: Exception = exc.InvalidStatus(response)
        return error

    def caused(error: Exception, cause: BaseException) -> Exception:
        error.__cause__ = cause
        return error

    return [
        ("ConnectionRefusedError", ConnectionRefusedError()),
        ("OSError", OSError("unreachable")),
        ("TimeoutError", TimeoutError()),
        ("InvalidMessage from EOFError", caused(exc.InvalidMessage("eof"), EOFError())),
        ("InvalidMessage from ValueError", caused(exc.InvalidMessage("bad"), ValueError())),
        ("InvalidMessage alone", exc.InvalidMessage("bad")),
        *((f"InvalidStatus {code}", status(code)) for code in (400, 403, 429, 500, 501, 502, 503,
                                                                504, 505)),
        ("InvalidUpgrade", exc.InvalidUpgrade("Upgrade", "h2c")),
        ("InvalidHandshake", exc.InvalidHandshake("no")),
        ("ValueError", ValueError("no")),
    ]


@scenario("connect", sides="client")
async def process_exception_decisions(pair: Pair) -> Any:
    """The default process_exception on each kind of error: retried (None) or raised as is."""
    decide = pair.client_module.process_exception
    decisions = {}
    for label, error in candidates(pair):
        decision = decide(error)
        decisions[label] = "retry" if decision is None else "raise" if decision is error else (
            type(decision).__name__)
    return decisions
