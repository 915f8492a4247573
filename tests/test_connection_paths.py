"""Rare paths of ``compat.asyncio.connection``, each run on websockets too where it can be seen.

Every test drives a real connection on 127.0.0.1, mostly against a raw peer that sends exact
bytes (``conformance.raw``). Where websockets can be observed doing the same thing, the same
scenario runs on both libraries and the outcomes must be equal.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import logging
import random
import socket
import struct
import time
import types
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from compat.asyncio.client import ClientConnection, connect
from compat.asyncio.connection import MAX_FRAGMENTS, core_logger
from conformance import trace
from conformance.raw import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    FrameReader,
    RawConnection,
    RawServer,
    Request,
    close_payload,
    default_response,
    encode_frame,
)

T = TypeVar("T")
LIBRARIES = ("websockets", "compat")
EXTENSION = "x-test"
TIMEOUT = 2.0
SCENARIO_TIMEOUT = 10.0


def client(library: str) -> types.ModuleType:
    """``asyncio.client`` of ``library``."""
    return importlib.import_module(f"{library}.asyncio.client")


def exceptions(library: str) -> types.ModuleType:
    """``exceptions`` of ``library``."""
    return importlib.import_module(f"{library}.exceptions")


async def both(scenario: Callable[[str], Awaitable[T]]) -> T:
    """Run ``scenario`` on websockets then on compat; assert equal outcomes; return compat's."""
    async with asyncio.timeout(SCENARIO_TIMEOUT):
        expected = await scenario("websockets")
    async with asyncio.timeout(SCENARIO_TIMEOUT):
        actual = await scenario("compat")
    assert actual == expected, f"\ncompat:     {actual!r}\nwebsockets: {expected!r}"
    return actual


def failure(exc: BaseException) -> dict[str, Any]:
    """An exception as trace data, with the class of its cause."""
    cause = exc.__cause__
    return {**trace.exception(exc), "cause": None if cause is None else type(cause).__name__}


async def attempt(awaitable: Awaitable[object]) -> Any:
    """The result of ``awaitable`` as trace data, or the exception it raises."""
    try:
        return {"result": trace.data(await awaitable)}
    except Exception as exc:
        return failure(exc)


def closed(ws: Any) -> dict[str, Any]:
    """State, close code and reason of a connection, and what using it raises."""
    return {
        "state": trace.state(ws),
        "code": trace.data(ws.close_code),
        "reason": ws.close_reason,
    }


def frames(seen: list[Frame]) -> list[dict[str, Any]]:
    """Frames a raw peer read, as trace data."""
    return [frame.trace() for frame in seen]


def answering(*names: str) -> Callable[[Request], bytes]:
    """A raw server's 101 response accepting the extensions ``names``."""

    def respond(request: Request) -> bytes:
        headers = [("Sec-WebSocket-Extensions", ", ".join(names))] if names else []
        return default_response(request, headers)

    return respond


Transform = Callable[[Any, types.ModuleType], Any]


def extension(
    library: str, encode: Transform | None = None, decode: Transform | None = None
) -> Any:
    """A client factory of ``x-test`` for ``library``, applying ``encode`` and ``decode``.

    Each transform gets the frame and the library's exceptions module and returns the frame.
    """
    base = importlib.import_module(f"{library}.extensions.base")
    errors = exceptions(library)

    class TestExtension(base.Extension):  # type: ignore[misc,name-defined]
        name = EXTENSION

        def decode(self, frame: Any, *, max_size: int | None = None) -> Any:
            return frame if decode is None else decode(frame, errors)

        def encode(self, frame: Any) -> Any:
            return frame if encode is None else encode(frame, errors)

    class Factory(base.ClientExtensionFactory):  # type: ignore[misc,name-defined]
        name = EXTENSION

        def get_request_params(self) -> list[tuple[str, str | None]]:
            return []

        def process_response_params(self, params: Any, accepted: Any) -> Any:
            return TestExtension()

    return Factory()


def clear_rsv2(frame: Any, errors: types.ModuleType) -> Any:
    """Decode: RSV2 marks frames of ``x-test``; clear it."""
    return dataclasses.replace(frame, rsv2=False)


class Records(logging.Handler):
    """Collects the records of a logger, at DEBUG meanwhile."""

    def __init__(self, name: str, level: int = logging.DEBUG) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger(name)
        self.level_before = self.logger.level
        self.logger.addHandler(self)
        self.logger.setLevel(level)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def remove(self) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self.level_before)

    def messages(self, level: int = logging.DEBUG) -> list[str]:
        return [record.getMessage() for record in self.records if record.levelno >= level]


@contextlib.contextmanager
def recording(name: str, level: int = logging.DEBUG) -> Iterator[Records]:
    handler = Records(name, level)
    try:
        yield handler
    finally:
        handler.remove()


# The log of picows.


def test_core_logger_keeps_the_level_of_tracebacks_and_critical_messages() -> None:
    """picows' messages are demoted to DEBUG unless they carry a traceback or are critical."""
    with recording("compat.core") as records:
        core_logger.warning("a framing error")
        try:
            raise RuntimeError("a bug")
        except RuntimeError:
            core_logger.error("a callback failed", exc_info=True)
        core_logger.critical("the end")
    levels = [(record.getMessage(), record.levelno) for record in records.records]
    assert levels == [
        ("a framing error", logging.DEBUG),
        ("a callback failed", logging.ERROR),
        ("the end", logging.CRITICAL),
    ]


# Attributes.


async def test_id_and_logger_can_be_replaced() -> None:
    """As in websockets, ``id`` is stable once read and ``id`` and ``logger`` can be set."""

    async def scenario(library: str) -> Any:
        chosen = uuid.UUID(int=42)
        async with (
            RawServer(None) as server,
            client(library).connect(server.url, compression=None) as ws,
        ):
            stable = ws.id == ws.id
            ws.id = chosen
            logger = logging.LoggerAdapter(logging.getLogger(f"test.{library}"), {})
            ws.logger = logger
            return {"stable": stable, "id": str(ws.id), "logger": ws.logger is logger}

    assert await both(scenario) == {"stable": True, "id": str(uuid.UUID(int=42)), "logger": True}


# Frames the peer sends.


async def receive(
    library: str,
    sent: list[bytes],
    answers: tuple[str, ...] = (),
    decode: Transform | None = None,
    encode: Transform | None = None,
    reply: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """A raw server sends ``sent`` (raw frames); the client receives until it fails.

    The server then reads until the client's close frame, answers it if ``reply``, and closes
    TCP. Return what recv() raised or returned, how the connection closed and the frames the
    server read.
    """
    seen: list[Frame] = []

    async def script(conn: RawConnection) -> None:
        for raw in sent:
            await conn.send(raw)
        read, _ = await conn.close_handshake(timeout=TIMEOUT, reply=reply)
        seen.extend(read)

    factories = [extension(library, encode, decode)] if answers else None
    async with RawServer(script, answering(*answers), timeout=TIMEOUT) as server:
        async with client(library).connect(
            server.url, compression=None, extensions=factories, **options
        ) as ws:
            outcomes = []
            for _ in range(3):
                outcomes.append(await attempt(ws.recv()))
                if "exception" in outcomes[-1]:
                    break
        await ws.wait_closed()
    return {"recv": outcomes, "closed": closed(ws), "peer_read": frames(seen)}


async def test_control_frame_with_rsv1() -> None:
    """A ping with RSV1, without extensions, fails the connection with 1002."""
    result = await both(
        lambda library: receive(library, [encode_frame(OP_PING, b"p", rsv1=True)])
    )
    assert result["recv"][0]["sent"] == {"code": 1002, "reason": "reserved bits must be 0"}


def text(payload: bytes, **kwargs: Any) -> bytes:
    """A text frame of ``x-test``: RSV2 set."""
    return encode_frame(OP_TEXT, payload, rsv2=True, **kwargs)


async def test_extension_decodes_an_invalid_close_reason() -> None:
    """A close reason that isn't UTF-8 once decoded by an extension fails with 1007."""

    def garble(frame: Any, errors: types.ModuleType) -> Any:
        if frame.rsv2 and frame.opcode == OP_CLOSE:
            return dataclasses.replace(frame, data=bytes(frame.data[:2]) + b"\xff", rsv2=False)
        return frame

    sent = [encode_frame(OP_CLOSE, close_payload(1000, "ok"), rsv2=True)]
    result = await both(lambda library: receive(library, sent, (EXTENSION,), decode=garble))
    assert result["recv"][0]["sent"] == {
        "code": 1007, "reason": "invalid start byte at position 0"
    }
    assert result["recv"][0]["cause"] == "UnicodeDecodeError"


async def test_extension_frames_within_both_bounds_of_max_size() -> None:
    """With extensions and both bounds of max_size, a frame is held to the smaller of the
    fragment bound and what is left of the message's: here the message's, and fails with 1009.
    """
    sent = [text(b"x" * 6, fin=False), encode_frame(OP_CONT, b"y" * 6)]
    result = await both(
        lambda library: receive(library, sent, (EXTENSION,), decode=clear_rsv2, max_size=(10, 8))
    )
    assert result["recv"][0]["sent"] == {
        "code": 1009, "reason": "frame with 6 bytes after reading 6 bytes exceeds limit of 10 bytes"
    }


@pytest.mark.parametrize(
    ("sent", "reason"),
    [
        ([text(b"a", fin=False), text(b"b")], "expected a continuation frame"),
        ([encode_frame(OP_CONT, b"b", rsv2=True)], "unexpected continuation frame"),
    ],
    ids=["data-inside-message", "orphan-continuation"],
)
async def test_extension_continuation_errors(sent: list[bytes], reason: str) -> None:
    """Frames out of order, once decoded by extensions, fail with 1002."""
    result = await both(lambda library: receive(library, sent, (EXTENSION,), decode=clear_rsv2))
    assert result["recv"][0]["sent"] == {"code": 1002, "reason": reason}


async def test_extension_frames_logged_at_debug() -> None:
    """Frames decoded by extensions are logged at DEBUG as websockets logs them."""

    async def scenario(library: str) -> Any:
        name = f"test.paths.{library}"
        with recording(name) as records:
            sent = [text(b"hi"), encode_frame(OP_CLOSE, close_payload(1000))]
            result = await receive(
                library, sent, (EXTENSION,), decode=clear_rsv2, logger=records.logger
            )
        logged = [line for line in records.messages() if line.startswith(("< TEXT", "< CLOSE"))]
        return {**result, "logged": logged}

    result = await both(scenario)
    assert result["logged"] == ["< TEXT 'hi' [2 bytes]", "< CLOSE 1000 (OK) [2 bytes]"]


def mark_control(frame: Any, errors: types.ModuleType) -> Any:
    """Encode: set RSV2 on control frames."""
    if frame.opcode in (OP_CLOSE, OP_PING, OP_PONG):
        return dataclasses.replace(frame, rsv2=True)
    return frame


async def test_extension_changes_the_close_frame() -> None:
    """A close frame changed by an extension is sent as the extension returned it."""

    async def scenario(library: str) -> Any:
        seen: list[Frame] = []

        async def script(conn: RawConnection) -> None:
            read, _ = await conn.close_handshake(timeout=TIMEOUT)
            seen.extend(read)

        factories = [extension(library, encode=mark_control, decode=clear_rsv2)]
        async with (
            RawServer(script, answering(EXTENSION), timeout=TIMEOUT) as server,
            client(library).connect(server.url, compression=None, extensions=factories) as ws,
        ):
            pass
        return {"closed": closed(ws), "peer_read": frames(seen)}

    result = await both(scenario)
    assert result["peer_read"][0]["rsv"] == [False, True, False]
    assert result["closed"]["code"] == 1000


async def test_extension_refuses_to_echo_the_close_frame() -> None:
    """An extension raising ProtocolError on the echoed close frame fails the connection with
    1002 after the close frame was received."""

    def refuse_ok(frame: Any, errors: types.ModuleType) -> Any:
        if frame.opcode == OP_CLOSE and bytes(frame.data[:2]) == close_payload(1000):
            raise errors.ProtocolError("refused")
        return frame

    sent = [encode_frame(OP_CLOSE, close_payload(1000, "bye"))]
    result = await both(lambda library: receive(library, sent, (EXTENSION,), encode=refuse_ok))
    assert result["recv"][0]["rcvd"] == {"code": 1000, "reason": "bye"}
    assert result["recv"][0]["sent"] == {"code": 1002, "reason": "refused"}
    assert result["recv"][0]["rcvd_then_sent"] is True


# Failures and the closing handshake.


async def test_framing_error_behind_a_close_frame_that_cannot_be_echoed() -> None:
    """picows finds a framing error right behind the peer's close frame and sends 1002 before
    the close frame is handled, then an extension fails encoding the echo: the connection
    records the close frame received, then the one picows sent, which the peer read.

    compat only: websockets fails in data_received() and connection_lost() here.
    """

    def fail_on_close(frame: Any, errors: types.ModuleType) -> Any:
        if frame.opcode == OP_CLOSE:
            raise RuntimeError("cannot encode close frames")
        return frame

    sent = [encode_frame(OP_CLOSE, close_payload(1000, "bye")) + encode_frame(0x3, b"")]
    with recording("compat.core") as core, recording("test.paths.core-close") as records:
        async with asyncio.timeout(SCENARIO_TIMEOUT):
            result = await receive(
                "compat", sent, (EXTENSION,), encode=fail_on_close, logger=records.logger
            )
    peer_close = result["peer_read"][0]
    assert peer_close["code"] == 1002
    assert result["recv"][0]["rcvd"] == {"code": 1000, "reason": "bye"}
    assert result["recv"][0]["sent"] == {"code": 1002, "reason": peer_close["reason"]}
    assert result["recv"][0]["rcvd_then_sent"] is True
    assert result["recv"][0]["cause"] == "RuntimeError"
    assert records.messages(logging.ERROR)[:2] == ["unexpected internal error", "parser failed"]
    # The failure escaping to picows is reported at its own level, with its traceback.
    assert any(
        record.levelno == logging.ERROR and record.exc_info for record in core.records
    )


async def test_protocol_error_while_closing() -> None:
    """A protocol error after the client sent its close frame sends no second close frame."""

    async def scenario(library: str) -> Any:
        seen: list[Frame] = []

        async def script(conn: RawConnection) -> None:
            first = await conn.read_frame()
            assert first is not None and first.opcode == OP_CLOSE
            seen.append(first)
            await conn.send(encode_frame(OP_TEXT, b"late", rsv2=True))
            read, _ = await conn.read_until_eof(timeout=0.2)
            seen.extend(read)

        async with RawServer(script, timeout=TIMEOUT) as server:
            ws = await client(library).connect(server.url, compression=None)
            outcome = await attempt(ws.close())
            received = await attempt(ws.recv())
        return {"close": outcome, "recv": received, "peer_read": frames(seen)}

    result = await both(scenario)
    assert [frame["code"] for frame in result["peer_read"]] == [1000]
    assert result["recv"]["cause"] == "ProtocolError"


async def test_close_timeout_after_a_protocol_error_keeps_its_cause() -> None:
    """When the peer never closes TCP after a protocol error, the connection is aborted after
    close_timeout and the exception still has the protocol error as its cause."""

    async def scenario(library: str) -> Any:
        async def script(conn: RawConnection) -> None:
            await conn.send(encode_frame(OP_TEXT, b"x", rsv2=True))
            await conn.read_until_eof(timeout=TIMEOUT)

        async with RawServer(script, timeout=TIMEOUT) as server, client(library).connect(
            server.url, compression=None, close_timeout=0.05
        ) as ws:
            return await attempt(ws.recv())

    result = await both(scenario)
    assert result["cause"] == "ProtocolError"


async def test_invalid_text_received_before_the_connection_closed() -> None:
    """A text message that isn't UTF-8, read once the connection closed, raises
    ConnectionClosedError; the close timer it arms finds the connection closed."""

    async def scenario(library: str) -> Any:
        async def script(conn: RawConnection) -> None:
            await conn.send(encode_frame(OP_TEXT, b"\xff"))

        async with RawServer(script, timeout=TIMEOUT) as server:
            ws = await client(library).connect(server.url, compression=None, close_timeout=0.02)
            await ws.wait_closed()
            received = await attempt(ws.recv())
            await asyncio.sleep(0.1)
            again = await attempt(ws.recv())
        return {"recv": received, "again": again, "closed": closed(ws)}

    result = await both(scenario)
    assert result["recv"]["cause"] == result["again"]["cause"] == "UnicodeDecodeError"


async def test_message_over_max_fragments_is_dropped_whole() -> None:
    """A message of more than MAX_FRAGMENTS frames fails with 1009."""
    count = MAX_FRAGMENTS + 3
    sent = [
        encode_frame(OP_TEXT if index == 0 else OP_CONT, b"f", fin=index == count - 1)
        for index in range(count)
    ]

    result = await both(lambda library: receive(library, [b"".join(sent)]))
    assert result["recv"][0]["sent"] == {"code": 1009, "reason": "too many fragments"}


# Pings and keepalive.


async def test_canceled_pong_waiter_when_the_connection_drops() -> None:
    """A pong waiter canceled by the application stays canceled when the connection drops; the
    others get ConnectionClosedError."""

    async def scenario(library: str) -> Any:
        async def script(conn: RawConnection) -> None:
            for _ in range(2):
                await conn.read_frame()

        async with RawServer(script, timeout=TIMEOUT) as server:
            ws = await client(library).connect(server.url, compression=None, ping_interval=None)
            first = await ws.ping(b"first")
            second = await ws.ping(b"second")
            first.cancel()
            await ws.wait_closed()
            with contextlib.suppress(asyncio.CancelledError):
                await first
            return {"first": first.cancelled(), "second": await attempt(second)}

    result = await both(scenario)
    assert result["first"] is True
    assert result["second"]["exception"] == "ConnectionClosedError"


async def test_overriding_ping_canceled_when_the_connection_drops() -> None:
    """A keepalive ping running through an overriding ping() is canceled when the connection
    drops."""

    async def scenario(library: str) -> Any:
        started = asyncio.Event()
        outcome: list[str] = []

        class Slow(client(library).ClientConnection):  # type: ignore[misc]
            async def ping(self, data: Any = None) -> Any:
                started.set()
                try:
                    await asyncio.sleep(TIMEOUT)
                except asyncio.CancelledError:
                    outcome.append("canceled")
                    raise
                outcome.append("slept")
                return await super().ping(data)

        async def script(conn: RawConnection) -> None:
            await started.wait()

        async with RawServer(script, timeout=TIMEOUT) as server:
            ws = await client(library).connect(
                server.url, compression=None, ping_interval=0.01, create_connection=Slow
            )
            await ws.wait_closed()
            await asyncio.sleep(0)
        return {"ping": outcome, "closed": closed(ws)}

    assert (await both(scenario))["ping"] == ["canceled"]


def control(seen: list[Frame]) -> list[Any]:
    """Opcodes of the frames a raw peer read, with close codes; ping payloads are random."""
    return [frame.close()[0] if frame.opcode == OP_CLOSE else frame.opcode for frame in seen]


async def test_no_keepalive_ping_while_closing() -> None:
    """Once the client sent its close frame, keepalive sends no ping."""

    async def scenario(library: str) -> Any:
        seen: list[Frame] = []

        async def script(conn: RawConnection) -> None:
            frame = await conn.read_frame()
            assert frame is not None
            seen.append(frame)
            read, _ = await conn.read_until_eof(timeout=0.15)
            seen.extend(read)
            await conn.send_close(1000)

        name = f"test.paths.closing.{library}"
        with recording(name) as records:
            async with RawServer(script, timeout=TIMEOUT) as server:
                ws = await client(library).connect(
                    server.url,
                    compression=None,
                    ping_interval=0.03,
                    ping_timeout=None,
                    logger=records.logger,
                )
                await ws.close()
        keepalive = [line for line in records.messages() if line.startswith("% ")]
        return {"closed": closed(ws), "peer_read": control(seen), "keepalive": keepalive}

    result = await both(scenario)
    assert result["peer_read"] == [1000]
    assert result["keepalive"] == []


async def test_keepalive_timeout_while_closing() -> None:
    """A keepalive ping unanswered when the client is closing doesn't fail the connection."""

    async def scenario(library: str) -> Any:
        seen: list[Frame] = []
        pinged = asyncio.Event()

        async def script(conn: RawConnection) -> None:
            while (frame := await conn.read_frame()) is not None:
                seen.append(frame)
                if frame.opcode == OP_PING:
                    pinged.set()
                elif frame.opcode == OP_CLOSE:
                    break
            await asyncio.sleep(0.1)
            await conn.send_close(1000)
            read, _ = await conn.read_until_eof(timeout=0.2)
            seen.extend(read)

        async with RawServer(script, timeout=TIMEOUT) as server:
            ws = await client(library).connect(
                server.url, compression=None, ping_interval=0.02, ping_timeout=0.04
            )
            await pinged.wait()
            await ws.close()
        return {"closed": closed(ws), "peer_read": control(seen)}

    result = await both(scenario)
    assert result == {
        "closed": {"state": "CLOSED", "code": 1000, "reason": ""},
        "peer_read": [OP_PING, 1000],
    }


async def test_keepalive_ping_data_avoids_pending_pings() -> None:
    """A keepalive ping never reuses the data of a ping waiting for its pong."""

    async def scenario(library: str) -> Any:
        state = random.getstate()
        random.seed(1234)
        first = struct.pack("!I", random.getrandbits(32))
        second = struct.pack("!I", random.getrandbits(32))
        pings: list[bytes] = []

        async def script(conn: RawConnection) -> None:
            while len(pings) < 2 and (frame := await conn.read_frame()) is not None:
                pings.append(frame.payload)

        try:
            async with RawServer(script, timeout=TIMEOUT) as server:
                ws = await client(library).connect(
                    server.url, compression=None, ping_interval=0.02, ping_timeout=None
                )
                random.seed(1234)
                await ws.ping(first)
                await ws.wait_closed()
        finally:
            random.setstate(state)
        return {"pings": pings, "expected": [first, second]}

    result = await both(scenario)
    assert result["pings"] == result["expected"]


async def test_keepalive_ping_encoding_fails() -> None:
    """An extension failing to encode a keepalive ping aborts the connection, logged as an
    internal error; the exception is caused by the extension's."""

    def fail_on_ping(frame: Any, errors: types.ModuleType) -> Any:
        if frame.opcode == OP_PING:
            raise RuntimeError("cannot encode pings")
        return frame

    async def scenario(library: str) -> Any:
        name = f"test.paths.keepalive.{library}"
        with recording(name, logging.ERROR) as records:
            result = await receive(
                library,
                [],
                (EXTENSION,),
                encode=fail_on_ping,
                logger=records.logger,
                ping_interval=0.02,
            )
        return {**result, "logged": records.messages(logging.ERROR)}

    result = await both(scenario)
    assert result["recv"][0]["cause"] == "RuntimeError"
    assert result["logged"] == ["unexpected internal error"]


# Sending and flow control.


async def small_socket(address: tuple[str, int]) -> socket.socket:
    """A client socket connected to ``address`` with a small send buffer, which fills fast."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, address)
    return sock


async def test_fragmented_message_ends_after_the_connection_closed() -> None:
    """When the connection closed while an async iterator produced the last fragment, send()
    raises ConnectionClosed instead of ending the message."""

    async def scenario(library: str) -> Any:
        seen: list[Frame] = []

        async def script(conn: RawConnection) -> None:
            frame = await conn.read_frame()
            assert frame is not None
            seen.append(frame)
            await conn.send_close(1000)
            read, _ = await conn.read_until_eof(timeout=0.2)
            seen.extend(read)

        async with RawServer(script, timeout=TIMEOUT) as server:
            ws = await client(library).connect(server.url, compression=None)

            async def chunks() -> AsyncIterator[str]:
                yield "first"
                await ws.wait_closed()

            sent = await attempt(ws.send(chunks()))
        return {"send": sent, "closed": closed(ws), "peer_read": frames(seen)}

    result = await both(scenario)
    assert result["send"]["exception"] == "ConnectionClosedOK"
    assert [frame["opcode"] for frame in result["peer_read"]] == [OP_TEXT, OP_CLOSE]


async def test_fragmented_message_waits_for_the_buffer_after_its_last_frame() -> None:
    """If the write buffer is above write_limit when the last frame of a fragmented message is
    written, send() returns only once the peer read enough."""

    async def scenario(library: str) -> Any:
        stop_pinging, start_reading = asyncio.Event(), asyncio.Event()
        seen: list[Frame] = []

        async def script(conn: RawConnection) -> None:
            # The peer's stream stops reading from the socket after 2 KiB, so that few pongs
            # fill the buffers, until it reads again.
            limit, conn.reader._limit = conn.reader._limit, 1024  # type: ignore[attr-defined]
            ping = encode_frame(OP_PING, b"p" * 125)
            while not stop_pinging.is_set():
                await conn.send(ping * 100)
                await asyncio.sleep(0)
            await start_reading.wait()
            conn.reader._limit = limit  # type: ignore[attr-defined]
            while (frame := await conn.read_frame()) is not None:
                if frame.opcode != OP_PONG:
                    seen.append(frame)
                if frame.opcode == OP_CONT and frame.fin:
                    break
            await conn.close_handshake()

        async with RawServer(script, timeout=TIMEOUT) as server:
            assert server.server is not None
            sock = await small_socket(server.server.sockets[0].getsockname())
            ws = await client(library).connect(
                server.url, sock=sock, compression=None, ping_interval=None, write_limit=1024
            )
            transport = getattr(ws.transport, "underlying_transport", ws.transport)

            async def chunks() -> AsyncIterator[bytes]:
                yield b"first"
                # Until the pongs fill the socket's buffers, which the peer doesn't read, and
                # the transport's well above write_limit.
                async with asyncio.timeout(TIMEOUT):
                    while transport.get_write_buffer_size() < 2**17:
                        await asyncio.sleep(0.01)
                stop_pinging.set()
                await asyncio.sleep(0.02)
                assert transport.get_write_buffer_size() > 1024

            sending = asyncio.create_task(ws.send(chunks()))
            await asyncio.sleep(0.05)
            while not stop_pinging.is_set():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            waited = not sending.done()
            start_reading.set()
            sent = await attempt(sending)
            await ws.close()
        return {"waited": waited, "send": sent, "peer_read": frames(seen)}

    result = await both(scenario)
    assert result["waited"] is True
    assert result["send"] == {"result": None}
    assert [frame["opcode"] for frame in result["peer_read"]] == [OP_BINARY, OP_CONT]


class PlainPeer:
    """A raw server on a plain socket that the test reads synchronously, from inside one step
    of the event loop, with a small receive buffer."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.listener.setblocking(False)
        self.address: tuple[str, int] = self.listener.getsockname()
        self.url = f"ws://127.0.0.1:{self.address[1]}/"
        self.sock = socket.socket()  # replaced by the accepted socket
        self.reader = FrameReader()

    async def accept(self) -> None:
        """Accept a connection and answer its opening handshake."""
        loop = asyncio.get_running_loop()
        self.sock.close()
        self.sock, _ = await loop.sock_accept(self.listener)
        head = b""
        while b"\r\n\r\n" not in head:
            head += await loop.sock_recv(self.sock, 4096)
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        await loop.sock_sendall(self.sock, default_response(Request("GET", "/", headers)))

    def read(self) -> list[Frame]:
        """Read until the socket's buffers are empty, without yielding to the event loop."""
        parsed: list[Frame] = []
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                time.sleep(0.01)  # let the client's kernel send what it queued
                try:
                    data = self.sock.recv(65536)
                except BlockingIOError:
                    return parsed
            if not data:
                return parsed
            parsed.extend(self.reader.feed(data))

    def close(self) -> None:
        self.sock.close()
        self.listener.close()


@contextlib.asynccontextmanager
async def paused_send(library: str) -> AsyncIterator[tuple[Any, PlainPeer, asyncio.Task[None]]]:
    """A client whose send(b"x") waits for the write buffer to drain: pongs to the peer's pings
    fill it, as the peer doesn't read. Yield the client, the peer and the send task."""
    peer = PlainPeer()
    try:
        sock = await small_socket(peer.address)
        ws, _ = await asyncio.gather(
            client(library).connect(
                peer.url, sock=sock, compression=None, ping_interval=None, write_limit=0
            ),
            peer.accept(),
        )
        transport = getattr(ws.transport, "underlying_transport", ws.transport)
        ping = encode_frame(OP_PING, b"p" * 125)
        async with asyncio.timeout(TIMEOUT):
            while True:
                peer.sock.send(ping * 10)
                await asyncio.sleep(0.005)
                if transport.get_write_buffer_size() > 0:
                    # Once the pings in flight were answered and the peer's kernel acknowledged
                    # what it could take, pongs are still waiting: the peer's window is closed.
                    await asyncio.sleep(0.1)
                    if transport.get_write_buffer_size() > 0:
                        break
        sending = asyncio.create_task(ws.send(b"x"))
        await asyncio.sleep(0.02)
        assert not sending.done()
        yield ws, peer, sending
    finally:
        peer.close()


@contextlib.contextmanager
def loop_errors() -> Iterator[list[str]]:
    """Messages of what the event loop reports to its exception handler meanwhile."""
    loop = asyncio.get_running_loop()
    errors: list[str] = []
    handler = loop.get_exception_handler()
    loop.set_exception_handler(lambda loop, context: errors.append(context["message"]))
    try:
        yield errors
    finally:
        loop.set_exception_handler(handler)


async def test_send_canceled_when_the_buffer_drains() -> None:
    """A send() canceled in the pass of the event loop where the write buffer drains raises
    CancelledError; the connection keeps working."""

    async def scenario(library: str) -> Any:
        with loop_errors() as errors:
            async with paused_send(library) as (ws, peer, sending):
                seen = peer.read()
                # Resume in the next pass, in which the transport finds the socket writable,
                # drains its buffer and resumes writing after the send is canceled.
                await asyncio.sleep(0)
                sending.cancel()
                try:
                    await sending
                    sent = "sent"
                except asyncio.CancelledError:
                    sent = "canceled"
                await ws.send("after")
                while not any(frame.opcode == OP_TEXT for frame in seen):
                    await asyncio.sleep(0.01)
                    seen += peer.read()
        data = [frame.trace() for frame in seen if frame.opcode != OP_PONG]
        return {"send": sent, "peer_read": data, "errors": errors}

    result = await both(scenario)
    assert result["send"] == "canceled"
    assert result["errors"] == []
    assert [frame["opcode"] for frame in result["peer_read"]] == [OP_BINARY, OP_TEXT]


async def test_send_canceled_as_the_connection_drops() -> None:
    """A send() waiting for the buffer to drain, canceled in the pass of the event loop where
    the connection drops, raises CancelledError; the connection is closed."""

    async def scenario(library: str) -> Any:
        with loop_errors() as errors:
            async with paused_send(library) as (ws, _, sending):
                if library == "compat":
                    ws.transport.disconnect(graceful=False)
                else:
                    ws.transport.abort()
                sending.cancel()
                try:
                    await sending
                    sent = "sent"
                except asyncio.CancelledError:
                    sent = "canceled"
                await ws.wait_closed()
        return {"send": sent, "closed": closed(ws), "errors": errors}

    result = await both(scenario)
    assert result == {
        "send": "canceled", "closed": {"state": "CLOSED", "code": 1006, "reason": ""}, "errors": []
    }


async def test_pong_arriving_as_the_keepalive_timeout_expires() -> None:
    """A pong read in the same pass of the event loop as the keepalive timeout expires counts:
    the connection stays open and keepalive goes on.

    compat only: websockets fails the connection with 1011 here, as the timeout cancels its
    keepalive task although the pong already arrived.
    """

    async def scenario(library: str) -> Any:
        seen: list[Frame] = []

        async def script(conn: RawConnection) -> None:
            while (frame := await conn.read_frame()) is not None:
                seen.append(frame)
                if frame.opcode == OP_CLOSE:
                    await conn.send_close(1000)
                    break
                await conn.send(encode_frame(OP_PONG, frame.payload))
                if len(seen) == 1:
                    # Block the event loop until the timeout expired: the pong and the timeout
                    # are then handled in the same pass, the pong first.
                    time.sleep(0.1)

        async with (
            RawServer(script, timeout=TIMEOUT) as server,
            client(library).connect(
                server.url, compression=None, ping_interval=0.02, ping_timeout=0.05
            ) as ws,
        ):
            await asyncio.sleep(0.2)
        return {"closed": closed(ws), "peer_read": control(seen)}

    async with asyncio.timeout(SCENARIO_TIMEOUT):
        result = await scenario("compat")
    assert result["closed"] == {"state": "CLOSED", "code": 1000, "reason": ""}
    assert result["peer_read"][:3] == [OP_PING, OP_PING, OP_PING]
    assert result["peer_read"][-1] == 1000


class Answering(asyncio.Protocol):
    """A peer that accepts the opening handshake and then ignores what it receives."""

    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.head = b""

    def data_received(self, data: bytes) -> None:
        if b"\r\n\r\n" in self.head:
            return
        self.head += data
        if b"\r\n\r\n" in self.head:
            lines = self.head.decode().split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            self.transport.write(default_response(Request("GET", "/", headers)))


def test_event_loop_ends_as_a_client_connection_drops() -> None:
    """When the program ends in the pass of the event loop where a client connection dropped,
    asyncio.run() cancels what compat left running for it without any error reported."""
    errors: list[str] = []
    connections: list[ClientConnection] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(lambda loop, context: errors.append(context["message"]))
        peer = Answering()
        server = await loop.create_server(lambda: peer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        ws = await connect(f"ws://127.0.0.1:{port}/", compression=None, ping_interval=None)
        connections.append(ws)
        server.close()
        # Both ends drop: the client's end is reported in the next pass, the program's last.
        ws.transport.disconnect(graceful=False)
        peer.transport.abort()

    asyncio.run(main())
    assert errors == []
    assert connections[0].state.name == "CLOSED"
