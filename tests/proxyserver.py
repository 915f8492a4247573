"""
Peers for the network tests of ``connect()``: pproxy, a real HTTP and SOCKS proxy server, in a
child process; scripted proxies; and a message exchange run with websockets and with compat.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
HANDLER_TIMEOUT = 10.0
EXCHANGE_TIMEOUT = 10.0
OPEN_TIMEOUT = 5.0
ECHO = ("echo", "hello")

#: What a connection attempt came to: :data:`ECHO`, or the :func:`summary` of an exception.
Outcome = tuple[str | int | None, ...]
SOCKS5_ADDRESS_TYPES = {1: "ipv4", 3: "domain", 4: "ipv6"}

# pproxy installs uvloop when it can, then fails to get an event loop from it: hide uvloop.
LAUNCHER = (
    "import sys; sys.modules['uvloop'] = None; "
    "from pproxy.server import main; sys.argv[0] = 'pproxy'; main()"
)


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_accepting(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pproxy exited with status {process.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"pproxy didn't listen on port {port} within {START_TIMEOUT}s")


@contextlib.contextmanager
def pproxy(schemes: str, auth: str | None = None, certificate: str | None = None) -> Iterator[int]:
    """
    Run ``pproxy`` serving ``schemes`` (e.g. ``"http+socks4+socks5"``) and yield its port.

    With ``auth`` (``"user:pass"`` for HTTP and SOCKS5, a user id for SOCKS4), clients must
    authenticate on every connection: ``--auth=-1`` stops pproxy from trusting an address
    that authenticated before. With ``"+ssl"`` in ``schemes``, pproxy speaks TLS with the key
    and certificate chain of the PEM file ``certificate``.
    """
    port = free_port()
    listen = f"{schemes}://127.0.0.1:{port}" + (f"#{auth}" if auth else "")
    tls = ["--ssl", certificate] if certificate else []
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, "-l", listen, "--auth=-1", *tls],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_accepting(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def tcp_server(handle: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    """
    Serve ``handle`` on 127.0.0.1, over TLS with a ``tls`` context, and yield the port; each
    connection is closed when ``handle`` returns, fails, or after :data:`HANDLER_TIMEOUT`, and the
    ones still open at exit are closed.
    """
    tasks: set[asyncio.Task[None]] = set()

    async def serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            async with asyncio.timeout(HANDLER_TIMEOUT):
                await handle(reader, writer)
        except (OSError, EOFError, TimeoutError):
            pass
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(serve_one, "127.0.0.1", 0, ssl=tls)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def http_proxy(reply: bytes, requests: list[bytes]) -> Handler:
    """Record each request head sent to an HTTP proxy in ``requests``, then send ``reply``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(reply)
        await writer.drain()

    return handle


def silent(events: list[bytes]) -> Handler:
    """Read what a client sends without ever answering; record ``b"closed"`` when it closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass
        events.append(b"closed")

    return handle


async def _read_socks4_request(reader: asyncio.StreamReader) -> tuple[str, str, int]:
    """Read a SOCKS4 or SOCKS4a ``CONNECT`` request: return user id, address and port."""
    header = await reader.readexactly(8)
    assert header[:2] == b"\4\1", header
    port, address = int.from_bytes(header[2:4], "big"), socket.inet_ntoa(header[4:])
    user_id = (await reader.readuntil(b"\0"))[:-1].decode()
    if header[4:7] == b"\0\0\0" and header[7] != 0:  # SOCKS4a: the name follows.
        address = (await reader.readuntil(b"\0"))[:-1].decode()
    return user_id, address, port


async def _read_socks5_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[str, str, int]:
    """Accept a SOCKS5 client without authentication; read its ``CONNECT`` request."""
    version, count = await reader.readexactly(2)
    assert version == 5 and 0 in await reader.readexactly(count)
    writer.write(b"\5\0")
    header = await reader.readexactly(4)
    assert header[:3] == b"\5\1\0", header
    kind = SOCKS5_ADDRESS_TYPES[header[3]]
    if kind == "domain":
        size = (await reader.readexactly(1))[0]
        address = (await reader.readexactly(size)).decode()
    else:
        family = socket.AF_INET if kind == "ipv4" else socket.AF_INET6
        packed = await reader.readexactly(4 if kind == "ipv4" else 16)
        address = socket.inet_ntop(family, packed)
    return kind, address, int.from_bytes(await reader.readexactly(2), "big")


def socks_proxy(version: int, requests: list[tuple[str, str, int]]) -> Handler:
    """
    Record each ``CONNECT`` request sent to a SOCKS ``version`` proxy in ``requests``, as
    ``(kind, address, port)``, then refuse it: ``kind`` is the SOCKS4 user id, or the SOCKS5
    address type ``"ipv4"``, ``"ipv6"`` or ``"domain"``.
    """

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if version == 4:
            requests.append(await _read_socks4_request(reader))
            writer.write(b"\0\x5b" + bytes(6))
        else:
            requests.append(await _read_socks5_request(reader, writer))
            writer.write(b"\5\1\0\1" + bytes(6))
        await writer.drain()

    return handle


def summary(exc: Exception) -> Outcome:
    """
    Reduce ``exc`` to its class name and message. A certificate verification error is reduced to
    its OpenSSL verification code and reason: its message depends on the TLS implementation.
    """
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ("raised", type(exc).__name__, exc.verify_code, exc.reason)
    return ("raised", type(exc).__name__, str(exc))


async def exchange(root: str, uri: str, **kwargs: Any) -> Outcome:
    """
    Connect to the echo server at ``uri`` with the ``connect()`` of ``root`` (``"websockets"``
    or ``"compat"``) and exchange a message; return :data:`ECHO` or the :func:`summary` of the
    exception raised.
    """
    client = importlib.import_module(f"{root}.asyncio.client")
    kwargs.setdefault("open_timeout", OPEN_TIMEOUT)
    try:
        async with asyncio.timeout(EXCHANGE_TIMEOUT):
            async with client.connect(uri, **kwargs) as websocket:
                await websocket.send("hello")
                return ("echo", await websocket.recv())
    except Exception as exc:
        return summary(exc)


async def differential(uri: str, **kwargs: Any) -> Outcome:
    """Run :func:`exchange` with websockets then compat; assert the outcomes match; return it."""
    expected = await exchange("websockets", uri, **kwargs)
    actual = await exchange("compat", uri, **kwargs)
    assert actual == expected, f"\ncompat:     {actual!r}\nwebsockets: {expected!r}"
    return expected
