"""Echo servers, each run in its own process so that its cost is not mixed with the client's."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

from .loops import new_runner, raise_fd_limit
from .targets import RAW, deflate_server_options, load_style
from .tls import Credentials, credentials, server_context
from .usage import Usage, reset_peak, snapshot

__all__ = ["MAX_SIZE", "ServerPool", "ServerProcess", "ServerSpec"]

#: Largest message any case sends, with room to spare; passed to every server and client.
MAX_SIZE = 32 * 2**20

#: Seconds to wait for a server process to start listening, then to exit once told to stop.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0

#: Requests on a server's control channel, each answered with the server's :class:`Usage`;
#: ``RESET`` restarts its peak memory mark first. Closing the channel stops the server.
USAGE, RESET = "usage", "reset"


@dataclass(frozen=True)
class ServerSpec:
    """What identifies a server: implementation, event loop, permessage-deflate, TLS."""

    kind: str
    loop: str
    deflate: int | None = None
    """Window bits of permessage-deflate, ``None`` for no compression."""
    tls: bool = False


class RawEcho(WSListener):
    """Echo every data frame as received, answer a close frame and disconnect."""

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
        elif frame.msg_type in (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION):
            transport.send(frame.msg_type, frame.get_payload_as_memoryview(), frame.fin)


def style_echo(root: str) -> Callable[[Any], Any]:
    """Return a websockets-style connection handler echoing every message of ``root``."""
    closed = load_style(root).exceptions.ConnectionClosed

    async def echo(websocket: Any) -> None:
        with suppress(closed):
            async for message in websocket:
                await websocket.send(message)

    return echo


async def serve(spec: ServerSpec, control: Connection, pem: Credentials | None) -> None:
    """Serve echo on an ephemeral loopback port, send the port on ``control``, serve until EOF.

    Meanwhile, answer each request on ``control`` with the process's usage.
    """
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()

    def on_request() -> None:
        try:
            request = control.recv()
        except (EOFError, OSError):
            if not stop.done():
                stop.set_result(None)
            return
        if request == RESET:
            reset_peak()
        control.send(snapshot())

    loop.add_reader(control.fileno(), on_request)
    tls: dict[str, Any] = {} if pem is None else {"ssl": server_context(pem)}
    if spec.kind == RAW:

        def listener(request: WSUpgradeRequest) -> WSListener:
            return RawEcho()

        server = await ws_create_server(
            listener, "127.0.0.1", 0, max_frame_size=MAX_SIZE, **tls
        )
        async with server:
            control.send(server.sockets[0].getsockname()[1])
            await stop
    else:
        style = load_style(spec.kind)
        options: dict[str, Any] = {"compression": None}
        if spec.deflate is not None:
            options = deflate_server_options(spec.kind, spec.deflate)
        async with style.server.serve(
            style_echo(spec.kind), "127.0.0.1", 0, max_size=MAX_SIZE, **options, **tls
        ) as server:
            control.send(next(iter(server.sockets)).getsockname()[1])
            await stop
    loop.remove_reader(control.fileno())


def main(spec: ServerSpec, control: Connection, pem: Credentials | None) -> None:
    """Entry point of a server process."""
    raise_fd_limit()
    # Clients drop connections at the end of a measurement: that is not worth a traceback.
    logging.disable(logging.CRITICAL)
    with new_runner(spec.loop) as runner:
        runner.run(serve(spec, control, pem))
    control.close()


class ServerProcess:
    """An echo server running in a child process, started on creation."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        context = multiprocessing.get_context("spawn")
        self._control, child = context.Pipe()
        pem = credentials() if spec.tls else None
        self._process = context.Process(target=main, args=(spec, child, pem), daemon=True)
        self._process.start()
        child.close()
        try:
            if not self._control.poll(START_TIMEOUT):
                raise TimeoutError(f"echo server {spec} did not start in {START_TIMEOUT} s")
            port = self._control.recv()
        except BaseException:
            self.stop()
            raise
        self.url = f"{'wss' if spec.tls else 'ws'}://127.0.0.1:{port}/"

    @property
    def pid(self) -> int:
        """Process id, to read the server's memory usage."""
        assert self._process.pid is not None
        return self._process.pid

    def usage(self, reset: bool = False) -> Usage:
        """The server's usage, read by the server; with ``reset``, restart its peak memory first."""
        self._control.send(RESET if reset else USAGE)
        if not self._control.poll(START_TIMEOUT):
            raise TimeoutError(f"echo server {self.spec} did not report its usage")
        reply: Usage = self._control.recv()
        return reply

    def alive(self) -> bool:
        """Tell whether the server process is still running."""
        return self._process.is_alive()

    def stop(self) -> None:
        """Tell the server to stop by closing the control pipe; kill it if it lingers."""
        self._control.close()
        self._process.join(STOP_TIMEOUT)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(STOP_TIMEOUT)
        self._process.close()


@contextmanager
def server_process(spec: ServerSpec) -> Iterator[ServerProcess]:
    """Run a fresh echo server for the duration of the block."""
    server = ServerProcess(spec)
    try:
        yield server
    finally:
        server.stop()


class ServerPool:
    """Echo servers started on first use and kept for later cases with the same spec."""

    def __init__(self) -> None:
        self._servers: dict[ServerSpec, ServerProcess] = {}

    def get(self, spec: ServerSpec) -> ServerProcess:
        """Return a running server for ``spec``, restarting it if it died."""
        server = self._servers.get(spec)
        if server is not None and not server.alive():
            server.stop()
            server = None
        if server is None:
            server = self._servers[spec] = ServerProcess(spec)
        return server

    def close(self) -> None:
        """Stop every server."""
        while self._servers:
            self._servers.popitem()[1].stop()

    def __enter__(self) -> ServerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
