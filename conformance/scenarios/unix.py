"""Unix sockets: unix_serve() and unix_connect(), plain and with TLS, and their errors."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tempfile
from collections.abc import AsyncIterator
from typing import Any

from .. import trace
from ..scenario import CONNECTION_DEFAULTS, Pair, family, scenario
from ._shapes import closed, echo, hold
from .tls import server_context, trusting_context


@contextlib.asynccontextmanager
async def unix_serving(pair: Pair, handler: Any, **kwargs: Any) -> AsyncIterator[str]:
    """Run the server target on a Unix socket in a fresh directory; yield its path."""
    for key, value in CONNECTION_DEFAULTS.items():
        kwargs.setdefault(key, value)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "ws.sock")
        server = await pair.server_module.unix_serve(handler, path, **kwargs)
        try:
            yield path
        finally:
            await pair.stop(server)


def unix_connect(pair: Pair, path: str | None, **kwargs: Any) -> Any:
    """The client target's unix_connect() with the suite's short timeouts."""
    for key, value in CONNECTION_DEFAULTS.items():
        kwargs.setdefault(key, value)
    return pair.client_module.unix_connect(path, **kwargs)


def address(value: Any) -> Any:
    """A Unix socket address as trace data: where it points, not the temporary path."""
    if isinstance(value, str):
        return "socket path" if value.endswith("ws.sock") else repr(value)
    return trace.data(value)


async def exchange(pair: Pair, path: str, **kwargs: Any) -> Any:
    """Echo three messages (the last one's length) over unix_connect(); what the client saw."""

    async def attempt() -> Any:
        async with unix_connect(pair, path, **kwargs) as ws:
            echoed = []
            for message in ("text", b"bytes"):
                await ws.send(message)
                echoed.append(trace.message(await ws.recv()))
            await ws.send("x" * 100_000)
            echoed.append(len(await ws.recv()))
            seen = {
                "echoed": echoed,
                "local_address": address(ws.local_address),
                "remote_address": address(ws.remote_address),
                "host": ws.request.headers["Host"],
            }
        return {**seen, "closed": closed(ws)}

    return await pair.catch(attempt())


@scenario("serve")
async def unix_echo(pair: Pair) -> Any:
    """Messages both ways over a Unix socket; the addresses each side sees."""
    seen: dict[str, Any] = {}

    async def handler(ws: Any) -> None:
        seen["server"] = {
            "local_address": address(ws.local_address),
            "remote_address": address(ws.remote_address),
            "path": ws.request.path,
        }
        await echo(ws)

    async with unix_serving(pair, handler) as path:
        outcome = await exchange(pair, path)
    return {"client": outcome, "server": seen.get("server")}


@scenario("serve")
async def unix_tls_echo(pair: Pair) -> Any:
    """TLS over a Unix socket: unix_connect(ssl=...) defaults to wss://localhost/."""
    async with unix_serving(pair, echo, ssl=server_context()) as path:
        return await exchange(pair, path, ssl=trusting_context())


@scenario("serve")
async def unix_rejected(pair: Pair) -> Any:
    """A process_request hook refusing a Unix connection with 403."""

    def forbid(connection: Any, request: Any) -> Any:
        return connection.respond(403, "Forbidden\n")

    async with unix_serving(pair, hold, process_request=forbid) as path:
        return await exchange(pair, path)


@scenario("serve")
async def unix_cross_origin_redirect(pair: Pair) -> Any:
    """A redirect to another host can't be followed over a Unix socket."""

    def redirect(connection: Any, request: Any) -> Any:
        response = connection.respond(302, "")
        response.headers["Location"] = "ws://elsewhere.invalid/"
        return response

    async with unix_serving(pair, hold, process_request=redirect) as path:
        return await exchange(pair, path)


@scenario("connect", sides="client")
async def unix_connect_without_path(pair: Pair) -> Any:
    """unix_connect() without a path nor a socket."""
    return await exchange_outcome(pair, None)


@scenario("connect", sides="client")
async def unix_connect_missing_socket(pair: Pair) -> Any:
    """unix_connect() to a path where nothing listens."""
    return await exchange_outcome(pair, "/nonexistent/socket")


async def exchange_outcome(pair: Pair, path: str | None) -> Any:
    """What connecting to ``path`` raises, if anything."""

    async def attempt() -> Any:
        async with unix_connect(pair, path):
            return "connected"

    return await pair.catch(attempt())


@scenario("serve")
async def unix_serve_with_sock(pair: Pair) -> Any:
    """unix_serve(sock=...) with a socket bound by the application."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "ws.sock")
        listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listening.bind(path)
        try:
            server = await pair.server_module.unix_serve(echo, sock=listening)
        except BaseException:
            listening.close()
            raise
        try:
            return await exchange(pair, path)
        finally:
            await pair.stop(server)


UNIX_SOCK_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("unix.connect-sock", "unix_connect(sock=...) with a connected Unix socket",
     {"kind": "unix", "with_path": False}),
    ("unix.connect-sock-and-path", "unix_connect() with both a path and a socket",
     {"kind": "unix", "with_path": True}),
    ("unix.connect-tcp-sock", "unix_connect(sock=...) with a TCP socket",
     {"kind": "tcp", "with_path": False}),
]


@family("connect", UNIX_SOCK_CASES)
async def unix_connect_sock(pair: Pair, kind: str, with_path: bool) -> Any:
    """unix_connect() with a socket the application made: used, or refused as asyncio does."""
    async with unix_serving(pair, echo) as path:
        if kind == "unix":
            given = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            given.connect(path)
        else:
            given = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        given.setblocking(False)
        try:
            return await sock_outcome(pair, given, path if with_path else None)
        finally:
            given.close()


async def sock_outcome(pair: Pair, given: socket.socket, path: str | None) -> Any:
    """An echo over ``given``, or what connecting with it raises (the socket's repr, which
    holds its descriptor, written ``SOCKET``)."""

    async def attempt() -> Any:
        async with unix_connect(pair, path, sock=given) as ws:
            await ws.send("hello")
            return await ws.recv()

    outcome = await pair.catch(attempt())
    if "str" in outcome:
        outcome["str"] = outcome["str"].replace(repr(given), "SOCKET")
    return outcome


@scenario("connect", sides="client")
async def unix_connect_server_hostname(pair: Pair) -> Any:
    """unix_connect() to a ws:// URI with server_hostname: refused before connecting, as the
    event loop refuses TLS keywords without TLS (the server saw no connection)."""
    accepted = 0

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "ws.sock")
        async with await asyncio.start_unix_server(accept, path):

            async def attempt() -> Any:
                async with unix_connect(pair, path, server_hostname="localhost"):
                    return "connected"

            outcome = await pair.catch(attempt())
            await asyncio.sleep(0.1)  # for a connection under way to be accepted
    return {"outcome": outcome, "connections": accepted}
