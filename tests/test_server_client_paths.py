"""Rare paths of compat's server and client, run on real sockets and compared with websockets.

Each test runs the same scenario against websockets and against compat, on 127.0.0.1, and
asserts that both behave the same: a client that resets the connection or half-closes it during
the opening handshake, bytes arriving while the server waits, a refused response cut short, a
connection class that can't be created, an extension that fails, and so on.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import re
import socket
import struct
import sys
import types
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from conformance.raw import OP_TEXT, FrameReader, accept_key, encode_frame
from tests.conftest import failure
from tests.differential import check, plain
from tests.proxyserver import tcp_server

ROOTS = ("websockets", "compat")
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
MASK = b"\x01\x02\x03\x04"
TIMEOUT = 5.0

T = TypeVar("T")


def module(root: str, name: str) -> types.ModuleType:
    """The module ``name`` (e.g. ``"asyncio.server"``) of websockets or compat."""
    return importlib.import_module(f"{root}.{name}")


async def same(scenario: Callable[[str], Awaitable[T]]) -> T:
    """Run ``scenario`` with websockets, then with compat; assert equal outcomes; return it."""
    outcomes = [await scenario(root) for root in ROOTS]
    assert outcomes[1] == outcomes[0], f"\ncompat:     {outcomes[1]!r}\nwebsockets: {outcomes[0]!r}"
    return outcomes[0]


def upgrade_request(port: int) -> bytes:
    """A valid opening handshake request."""
    return (
        "GET / HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {KEY}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "\r\n"
    ).encode()


def port_of(server: Any) -> int:
    return int(server.sockets[0].getsockname()[1])


def reset(writer: asyncio.StreamWriter) -> None:
    """Close the TCP connection with a RST rather than a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def read_all(reader: asyncio.StreamReader) -> bytes | str:
    """Every byte up to the end of the stream, or how the stream ended otherwise."""
    try:
        async with asyncio.timeout(TIMEOUT):
            return await reader.read()
    except ConnectionResetError:
        return "reset"


class Records(logging.Handler):
    """Collects the messages of records."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def logged(root: str, level: int = logging.DEBUG) -> Iterator[tuple[logging.Logger, Records]]:
    """A logger of its own for ``root``'s server or client at ``level``, and what it logs."""
    logger = logging.getLogger(f"test_server_client_paths.{root}")
    records = Records()
    logger.addHandler(records)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield logger, records
    finally:
        logger.removeHandler(records)


def normalized(messages: list[str], port: int) -> list[str]:
    """Log messages without what changes between runs: dates, ports."""
    shown = []
    for message in messages:
        message = message.replace(str(port), "PORT")
        message = re.sub(r"^([<>] Date: ).*", r"\1DATE", message)
        message = re.sub(r"^([<>] Server: ).*", r"\1SERVER", message)
        shown.append(message)
    return shown


async def echo(websocket: Any) -> None:
    async for message in websocket:
        await websocket.send(message)


# Server: the listening server itself.


async def test_server_loop_await_and_context_manager() -> None:
    """``get_loop()``, ``await server`` and ``async with server`` on a started server."""

    async def scenario(root: str) -> tuple[bool, bool, bool]:
        server = await module(root, "asyncio.server").serve(echo, "127.0.0.1", 0)
        own_loop = server.get_loop() is asyncio.get_running_loop()
        awaited = await server is server
        async with server as entered:
            pass
        return own_loop, awaited, entered is server

    assert await same(scenario) == (True, True, True)


async def test_server_listening_on_ipv6_is_logged_with_brackets() -> None:
    """The address of an IPv6 listening socket is logged as ``[host]:port``."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6")

    async def scenario(root: str) -> list[str]:
        with logged(root, logging.INFO) as (logger, records):
            server = await module(root, "asyncio.server").serve(echo, "::1", 0, logger=logger)
            port = port_of(server)
            server.close()
            await server.wait_closed()
        return normalized(records.messages, port)

    messages = await same(scenario)
    assert messages[0] == "server listening on [::1]:PORT"


# Server: the opening handshake, with a raw client.


@contextlib.asynccontextmanager
async def serving(root: str, handler: Any = echo, **kwargs: Any) -> AsyncIterator[Any]:
    """A server of ``root`` on 127.0.0.1, closed on exit."""
    server = await module(root, "asyncio.server").serve(handler, "127.0.0.1", 0, **kwargs)
    try:
        yield server
    finally:
        server.close()
        async with asyncio.timeout(TIMEOUT):
            await server.wait_closed()


async def reset_after(
    root: str, request_bytes: int | None = None, **kwargs: Any
) -> tuple[list[str], int]:
    """A client sends the upgrade request (its first ``request_bytes`` only, if given), then
    resets the connection: the server's DEBUG log, and its handlers left running."""
    with logged(root) as (logger, records):
        async with serving(root, logger=logger, **kwargs) as server:
            port = port_of(server)
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(upgrade_request(port)[:request_bytes])
            await writer.drain()
            await asyncio.sleep(0.1)
            reset(writer)
            await asyncio.sleep(0.1)
            handlers = len(server.handler_tasks)
    return normalized(records.messages, port), handlers


async def test_reset_before_the_request() -> None:
    """A client resetting the connection before its request is done gets nothing; logged."""

    messages, handlers = await same(lambda root: reset_after(root, request_bytes=20))
    assert handlers == 0
    assert "connection closed" in messages


async def test_reset_while_process_request_runs() -> None:
    """A client resetting the connection while ``process_request`` runs gets no response."""

    async def process_request(connection: Any, request: Any) -> None:
        await connection.wait_closed()

    messages, handlers = await same(
        lambda root: reset_after(root, process_request=process_request)
    )
    assert handlers == 0
    assert messages.index("< EOF") < messages.index("> EOF")


async def test_request_then_eof_without_debug_logs() -> None:
    """A client half-closing after its request gets no response, with DEBUG off too."""

    async def scenario(root: str) -> tuple[bytes | str, list[str]]:
        async def process_request(connection: Any, request: Any) -> None:
            await asyncio.sleep(0.1)

        with logged(root, logging.INFO) as (logger, records):
            async with serving(root, logger=logger, process_request=process_request) as server:
                port = port_of(server)
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(upgrade_request(port))
                writer.write_eof()
                received = await read_all(reader)
                writer.close()
        return received, normalized(records.messages, port)

    received, messages = await same(scenario)
    assert received == b""
    assert "connection closed" in messages


def rejecting(status: int) -> Callable[[Any, Any], Any]:
    """A ``process_request`` hook answering ``status``."""

    def process_request(connection: Any, request: Any) -> Any:
        return connection.respond(status, "No.\n")

    return process_request


async def test_bytes_sent_after_a_rejection_are_discarded() -> None:
    """After a rejection, the server discards what the client sends and closes when it does."""

    async def scenario(root: str) -> tuple[bytes | str, bool]:
        async with serving(root, process_request=rejecting(403), close_timeout=TIMEOUT) as server:
            port = port_of(server)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(upgrade_request(port))
            received = await read_all(reader)
            # More than the server would buffer before the handshake is over.
            writer.write(b"x" * 2**17)
            await writer.drain()
            writer.write_eof()
            # The server notices the end of the connection at once, not after close_timeout.
            await handlers_finished(server)
            writer.close()
        return status_and_ending(received)

    assert await same(scenario) == (b"HTTP/1.1 403 Forbidden", True)


async def handlers_finished(server: Any) -> None:
    """Wait until ``server`` has no handler left, within a second: well before close_timeout."""
    async with asyncio.timeout(1):
        while server.handler_tasks:
            await asyncio.sleep(0.01)


def status_and_ending(received: object) -> tuple[bytes, bool]:
    """The status line of a refusal, and whether its body arrived whole."""
    assert isinstance(received, bytes)
    return received.partition(b"\r\n")[0], received.endswith(b"No.\n")


def text_frame(payload: bytes) -> bytes:
    return encode_frame(OP_TEXT, payload, mask=MASK)


async def read_frames(reader: asyncio.StreamReader, count: int) -> tuple[bytes, list[Any]]:
    """The response head, then ``count`` frames."""
    frames: list[Any] = []
    async with asyncio.timeout(TIMEOUT):
        head = await reader.readuntil(b"\r\n\r\n")
        parser = FrameReader()
        while len(frames) < count:
            frames.extend(parser.feed(await reader.read(65536)))
    return head, frames


async def test_frames_sent_before_the_response_are_read_after_it() -> None:
    """A frame that arrives while the hooks run is delivered once the connection is open."""

    async def scenario(root: str) -> tuple[bytes, list[tuple[int, bytes]]]:
        sent = asyncio.Event()

        async def process_request(connection: Any, request: Any) -> None:
            await sent.wait()

        async with serving(root, process_request=process_request) as server:
            port = port_of(server)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(upgrade_request(port))
            await asyncio.sleep(0.05)
            writer.write(text_frame(b"early"))
            await asyncio.sleep(0.05)
            sent.set()
            head, frames = await read_frames(reader, 1)
            writer.close()
        return head.partition(b"\r\n")[0], [(frame.opcode, frame.payload) for frame in frames]

    assert await same(scenario) == (b"HTTP/1.1 101 Switching Protocols", [(OP_TEXT, b"early")])


async def test_a_rejection_after_much_early_data_reads_the_client_closing() -> None:
    """Past the early data limit, then rejected: the server still sees the client close."""

    async def scenario(root: str) -> tuple[bytes, bool]:
        sent = asyncio.Event()

        async def process_request(connection: Any, request: Any) -> Any:
            await sent.wait()
            return connection.respond(403, "No.\n")

        async with serving(root, process_request=process_request, close_timeout=TIMEOUT) as server:
            port = port_of(server)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(upgrade_request(port))
            await asyncio.sleep(0.05)
            writer.write(text_frame(b"x" * 2**17))
            await asyncio.sleep(0.05)
            sent.set()
            received = await read_all(reader)
            writer.write_eof()
            await handlers_finished(server)
            writer.close()
        return status_and_ending(received)

    assert await same(scenario) == (b"HTTP/1.1 403 Forbidden", True)


async def test_process_request_returning_something_else_aborts() -> None:
    """A ``process_request`` hook returning something other than a response: no answer."""

    async def scenario(root: str) -> tuple[bytes | str, list[str]]:
        def process_request(connection: Any, request: Any) -> Any:
            return "not a response"

        with logged(root, logging.INFO) as (logger, records):
            async with serving(root, logger=logger, process_request=process_request) as server:
                port = port_of(server)
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(upgrade_request(port))
                received = await read_all(reader)
                writer.close()
        return received, normalized(records.messages, port)

    received, messages = await same(scenario)
    assert received == b""
    assert not any("failed" in message for message in messages)


async def test_a_cancelled_handshake_leaves_the_request_unanswered() -> None:
    """Once the task running a connection's handshake is cancelled, its request is ignored."""

    async def scenario(root: str) -> bytes | str:
        async with serving(root) as server:
            port = port_of(server)
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            async with asyncio.timeout(TIMEOUT):
                while not server.handler_tasks:
                    await asyncio.sleep(0.01)
            for task in server.handler_tasks:
                task.cancel()
            await asyncio.sleep(0.05)
            writer.write(upgrade_request(port))
            try:
                async with asyncio.timeout(0.2):
                    received: bytes | str = await reader.read(1)
            except TimeoutError:
                received = "nothing yet"
            # A reset ends the server's side too, which nothing else would.
            reset(writer)
            await asyncio.sleep(0.05)
        return received

    assert await same(scenario) == "nothing yet"


async def test_a_reset_unread_past_the_early_data_limit() -> None:
    """Reading paused by early frames, a reset shows only when the response is written.

    websockets pauses past ``max_queue`` frames, compat past ``EARLY_DATA_LIMIT`` bytes: 40
    frames of 4 KiB exceed both.
    """

    async def scenario(root: str) -> list[str]:
        sent = asyncio.Event()

        async def process_request(connection: Any, request: Any) -> Any:
            await sent.wait()
            return connection.respond(403, "No.\n")

        with logged(root, logging.INFO) as (logger, records):
            async with serving(
                root, logger=logger, process_request=process_request, close_timeout=TIMEOUT
            ) as server:
                port = port_of(server)
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(upgrade_request(port))
                await asyncio.sleep(0.05)
                writer.write(b"".join(text_frame(b"x" * 2**12) for _ in range(40)))
                await writer.drain()
                await asyncio.sleep(0.05)
                reset(writer)
                await asyncio.sleep(0.05)
                sent.set()
                # The failed write ends the connection: no waiting for close_timeout.
                async with asyncio.timeout(1):
                    while server.handler_tasks:
                        await asyncio.sleep(0.01)
        return normalized(records.messages, port)

    messages = await same(scenario)
    assert messages[1:3] == ["HTTP response sent (403 Forbidden)", "connection closed"]


# Client.


class Refusing:
    """A ``create_connection`` class of websockets' or compat's client that can't be created."""

    @staticmethod
    def of(root: str) -> type:
        client = module(root, "asyncio.client")

        class Refusing(client.ClientConnection):  # type: ignore[name-defined,misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                raise RuntimeError("no connection today")

        return Refusing


async def test_a_connection_class_that_fails() -> None:
    """A ``create_connection`` class that raises: connecting raises its error."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def scenario(root: str) -> list[tuple[str, str]]:
        async with tcp_server(handle) as port:
            with warnings.catch_warnings():
                # websockets leaves the socket to the garbage collector.
                warnings.simplefilter("ignore", ResourceWarning)
                return await failure(
                    root, f"ws://127.0.0.1:{port}/", create_connection=Refusing.of(root)
                )

    assert await same(scenario) == [("RuntimeError", "no connection today")]


async def test_the_socket_of_a_connection_that_failed_is_closed_at_once() -> None:
    """compat closes that socket before raising, while websockets leaves it to the garbage
    collector: the server sees the end of the stream while the error is still referenced."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read())

    client = module("compat", "asyncio.client")
    async with tcp_server(handle) as port:
        with pytest.raises(RuntimeError) as error:
            await client.connect(f"ws://127.0.0.1:{port}/", create_connection=Refusing.of("compat"))
        async with asyncio.timeout(TIMEOUT):
            while not received:
                await asyncio.sleep(0.01)
        assert error.value.__traceback__ is not None
    assert received == [b""]


def answering(response: Callable[[bytes], bytes], then: float = 0.0, rst: bool = False) -> Any:
    """A raw server handler answering the request with ``response(key)``, then closing after
    ``then`` seconds, with a reset if ``rst``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = re.search(rb"Sec-WebSocket-Key: (\S+)", head)
        assert key is not None
        writer.write(response(key.group(1)))
        await writer.drain()
        await asyncio.sleep(then)
        if rst:
            reset(writer)

    return handle


class FailingFactory:
    """A client extension factory failing with ValueError on the server's parameters."""

    name = "x-failing"

    def get_request_params(self) -> list[tuple[str, str | None]]:
        return []

    def process_response_params(self, params: Any, accepted: Any) -> Any:
        raise ValueError("can't configure")


def test_an_extension_failing_on_the_response_parameters() -> None:
    """An error other than NegotiationError from a factory propagates as it is."""
    from websockets.client import ClientProtocol
    from websockets.datastructures import Headers
    from websockets.uri import parse_uri

    from compat.datastructures import Headers as CompatHeaders
    from compat.handshake import accept_extensions

    header = [("Sec-WebSocket-Extensions", "x-failing")]
    factories: list[Any] = [FailingFactory()]
    protocol = ClientProtocol(parse_uri("ws://example.com/"), extensions=factories)
    expected = plain_outcome(lambda: protocol.process_extensions(Headers(header)))
    actual = plain_outcome(lambda: accept_extensions(CompatHeaders(header), factories))
    assert actual == expected == ("raised", "ValueError", ("can't configure",), "can't configure")


def plain_outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("returned", plain(call()))
    except Exception as exc:
        return plain(exc)


async def test_connect_fails_at_once_on_an_extension_error() -> None:
    """compat's client raises the factory's error as soon as the 101 arrives.

    websockets' client can't be compared here: the error escapes its ``data_received()``, and
    it waits for ``open_timeout``.
    """

    def accepting(key: bytes) -> bytes:
        return (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_key(key.decode()).encode() + b"\r\n"
            b"Sec-WebSocket-Extensions: x-failing\r\n\r\n"
        )

    async with tcp_server(answering(accepting, then=TIMEOUT)) as port:
        chain = await failure(
            "compat",
            f"ws://127.0.0.1:{port}/",
            extensions=[FailingFactory()],
            compression=None,
            open_timeout=TIMEOUT / 2,
        )
    assert chain == [("ValueError", "can't configure")]


async def test_a_refused_response_whose_body_is_cut_by_a_reset() -> None:
    """A reset while reading the body of a refused response ends the body as EOF does."""

    def refusing(key: bytes) -> bytes:
        return b"HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nonly a part"

    async def scenario(root: str) -> list[tuple[str, str]]:
        async with tcp_server(answering(refusing, then=0.2, rst=True)) as port:
            return await failure(root, f"ws://127.0.0.1:{port}/")

    assert await same(scenario) == [
        ("InvalidMessage", "did not receive a valid HTTP response"),
        ("EOFError", "stream ends after 11 bytes, expected 100 bytes"),
    ]


async def test_a_refused_response_with_a_chunk_size_line_too_long() -> None:
    """A chunked body whose chunk size line goes on past the line length limit."""

    def refusing(key: bytes) -> bytes:
        return b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n" + b"0" * 10000

    async def scenario(root: str) -> list[tuple[str, str]]:
        async with tcp_server(answering(refusing, then=0.2)) as port:
            return await failure(root, f"ws://127.0.0.1:{port}/")

    assert await same(scenario) == [
        ("InvalidMessage", "did not receive a valid HTTP response"),
        ("SecurityError", "read 10000 bytes, expected no more than 8192 bytes"),
    ]


# Without werkzeug; exceptions.


def without_werkzeug(root: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A fresh copy of ``root``'s router module, imported as if werkzeug weren't installed."""
    for name in ("werkzeug", "werkzeug.exceptions", "werkzeug.routing"):
        monkeypatch.setitem(sys.modules, name, None)
    path = module(root, "asyncio.router").__file__
    spec = importlib.util.spec_from_file_location(f"{root}.asyncio._router_copy", path)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


def test_route_without_werkzeug(monkeypatch: pytest.MonkeyPatch) -> None:
    """``route()`` and ``unix_route()`` raise ImportError when werkzeug is missing."""

    def failures(router: types.ModuleType) -> list[Any]:
        outcomes = []
        calls: list[Callable[[], Any]] = [
            lambda: router.route(None, "127.0.0.1", 0),
            lambda: router.unix_route(None),
        ]
        for call in calls:
            try:
                call()
            except ImportError as exc:
                outcomes.append(plain(exc))
        return outcomes

    outcomes = [failures(without_werkzeug(root, monkeypatch)) for root in ROOTS]
    assert (
        outcomes[1]
        == outcomes[0]
        == [
            ("raised", "ImportError", ("route() requires werkzeug",), "route() requires werkzeug"),
            (
                "raised",
                "ImportError",
                ("unix_route() requires werkzeug",),
                "unix_route() requires werkzeug",
            ),
        ]
    )


def test_payload_too_big_current_size_is_set_once() -> None:
    """Setting the current size twice fails with AssertionError and changes nothing."""

    def twice(m: types.ModuleType) -> Any:
        exc = m.PayloadTooBig(300, 1000)
        exc.set_current_size(100)
        failed = "nothing"
        try:
            exc.set_current_size(200)
        except AssertionError as error:
            # websockets' bare assert has no message; only the exception type is compared.
            failed = type(error).__name__
        return failed, str(exc), exc.current_size, exc.max_size

    message = "frame with 300 bytes after reading 100 bytes exceeds limit of 1100 bytes"
    assert check("exceptions", twice) == ("returned", ("AssertionError", message, 100, 1100))
