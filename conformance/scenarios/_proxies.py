"""Proxies for the scenarios of connect() through a proxy: pproxy and scripted TCP servers.

pproxy, a real HTTP and SOCKS proxy server, runs in a child process on 127.0.0.1. A scenario asks
:func:`pproxy_port` for the port of one with the schemes, credentials and TLS it needs: the first
request starts it, and it serves the rest of the session, until the interpreter exits
(:func:`stop_all`). :class:`PProxy` also runs one for a ``with`` block.

:func:`tcp_server` serves a scripted handler on 127.0.0.1, such as :func:`silent`,
:func:`peer_recorder` or :func:`relay`, for the duration of a scenario.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import pathlib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType

__all__ = [
    "CLOSED",
    "Handler",
    "PProxy",
    "free_port",
    "peer_recorder",
    "pproxy_port",
    "relay",
    "silent",
    "stop_all",
    "tcp_server",
]

START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
HANDLER_TIMEOUT = 10.0

# Nothing listens there: a connection to it is refused at once.
CLOSED = "127.0.0.1:9"

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


def _accepting(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class PProxy:
    """
    ``pproxy`` serving ``schemes`` (e.g. ``"http+socks4+socks5"``) on a port of 127.0.0.1.

    With ``auth`` (``"user:pass"`` for HTTP and SOCKS5, a user id for SOCKS4), clients must
    authenticate on every connection: ``--auth=-1`` stops pproxy from trusting an address
    that authenticated before. With ``"+ssl"`` in ``schemes``, pproxy speaks TLS with the key
    and certificate chain ``pem`` (PEM bytes), which it reads from a temporary file when it
    starts. Proxy settings of the environment don't reach the child.
    """

    def __init__(self, schemes: str, auth: str | None = None, pem: bytes | None = None) -> None:
        self.schemes = schemes
        self.auth = auth
        self.pem = pem
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.certificate: pathlib.Path | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        listen = f"{self.schemes}://127.0.0.1:{self.port}" + (f"#{self.auth}" if self.auth else "")
        tls: list[str] = []
        if self.pem is not None:
            descriptor, name = tempfile.mkstemp(prefix="pproxy-", suffix=".pem")
            with os.fdopen(descriptor, "wb") as file:
                file.write(self.pem)
            self.certificate = pathlib.Path(name)
            tls = ["--ssl", name]
        environment = {
            name: value for name, value in os.environ.items()
            if not name.lower().endswith("_proxy")
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "-l", listen, "--auth=-1", *tls],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=environment,
        )
        return self.process

    def _check(self, process: subprocess.Popen[bytes], deadline: float) -> None:
        if process.poll() is not None:
            self.stop()
            raise RuntimeError(f"pproxy exited with status {process.returncode}")
        if time.monotonic() > deadline:
            self.stop()
            raise TimeoutError(f"pproxy didn't listen on port {self.port} within {START_TIMEOUT}s")

    def _started(self) -> None:
        """pproxy listens: it read its certificate, which can go."""
        if self.certificate is not None:
            self.certificate.unlink(missing_ok=True)
            self.certificate = None

    def start(self) -> int:
        """Start pproxy and wait until it accepts connections; return its port."""
        process = self._spawn()
        deadline = time.monotonic() + START_TIMEOUT
        while not _accepting(self.port):
            self._check(process, deadline)
            time.sleep(0.05)
        self._started()
        return self.port

    async def astart(self) -> int:
        """:meth:`start` without blocking the event loop while pproxy starts."""
        process = self._spawn()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self._check(process, deadline)
                await asyncio.sleep(0.05)
                continue
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            break
        self._started()
        return self.port

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop pproxy, and wait until it exited."""
        process, self.process = self.process, None
        self._started()
        if process is None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def __enter__(self) -> int:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


# The pproxy instances of the session, by settings.
_RUNNING: dict[tuple[str, str | None, bytes | None], PProxy] = {}


async def pproxy_port(schemes: str, auth: str | None = None, pem: bytes | None = None) -> int:
    """Port of a pproxy of the session with these settings (see :class:`PProxy`), started on
    first use and stopped when the interpreter exits."""
    key = (schemes, auth, pem)
    proxy = _RUNNING.get(key)
    if proxy is not None and proxy.running:
        return proxy.port
    if not _RUNNING:
        atexit.register(stop_all)
    proxy = _RUNNING[key] = PProxy(schemes, auth, pem)
    try:
        return await proxy.astart()
    except BaseException:
        del _RUNNING[key]
        raise


def stop_all() -> None:
    """Stop every pproxy :func:`pproxy_port` started."""
    while _RUNNING:
        _, proxy = _RUNNING.popitem()
        proxy.stop()


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


def silent(events: list[str]) -> Handler:
    """Read what a client sends without ever answering; record ``"closed"`` when it closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass
        events.append("closed")

    return handle


def peer_recorder(peers: list[tuple[str, int]]) -> Handler:
    """Record the address of each client, read its first request, then close the connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername"))
        await reader.read(4096)

    return handle


# The hosts :func:`relay` opens tunnels to.
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def relay(targets: list[str] | None = None) -> Handler:
    """
    An HTTP proxy that opens the tunnel asked for with ``CONNECT`` and relays both ways, to a
    loopback host of :data:`LOOPBACK` only (403 for any other); each target asked for, as
    ``host:port``, is added to ``targets``.
    """

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        target = head.split(b" ")[1].decode()
        if targets is not None:
            targets.append(target)
        host, _, port = target.rpartition(":")
        if host not in LOOPBACK or not port.isdigit():
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        server_reader, server_writer = await asyncio.open_connection(host.strip("[]"), int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(pipe(reader, server_writer), pipe(server_reader, writer))

    return handle
