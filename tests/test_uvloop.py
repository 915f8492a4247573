"""The opening handshake and hand-off to picows on uvloop, over TCP, TLS and Unix sockets.

uvloop's transports aren't asyncio's: the same exchange runs with websockets and with compat,
client and server, under uvloop and must have the same outcome.
"""

from __future__ import annotations

import asyncio
import importlib
import pathlib
import ssl
from typing import TYPE_CHECKING, Any, cast

import pytest
import trustme

if TYPE_CHECKING:
    from websockets.exceptions import InvalidStatus

    from compat.exceptions import InvalidStatus as CompatInvalidStatus

uvloop = pytest.importorskip("uvloop")

LIBRARIES = ["websockets", "compat"]


def contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Server and client TLS contexts sharing a test certificate authority."""
    authority = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    authority.configure_trust(client)
    return server, client


async def exchange(library: str, transport: str, path: str) -> list[Any]:
    """Echo messages of several sizes, then a refusal from an asynchronous hook."""
    server_module = importlib.import_module(f"{library}.asyncio.server")
    client_module = importlib.import_module(f"{library}.asyncio.client")
    server_context, client_context = contexts()

    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async def hook(connection: Any, request: Any) -> Any:
        await asyncio.sleep(0)
        return connection.respond(403, "no\n") if request.path == "/no" else None

    def connect(resource: str) -> Any:
        if transport == "unix":
            return client_module.unix_connect(path, f"ws://localhost{resource}")
        tls = {"ssl": client_context} if transport == "tls" else {}
        scheme = "wss" if transport == "tls" else "ws"
        return client_module.connect(f"{scheme}://127.0.0.1:{port}{resource}", **tls)

    outcomes: list[Any] = []
    if transport == "unix":
        serving = server_module.unix_serve(echo, path, process_request=hook)
    else:
        tls = {"ssl": server_context} if transport == "tls" else {}
        serving = server_module.serve(echo, "127.0.0.1", 0, process_request=hook, **tls)
    async with serving as server:
        port = server.sockets[0].getsockname()[1] if transport != "unix" else 0
        async with connect("/") as ws:
            for size in (1, 70_000, 300_000):
                await ws.send("x" * size)
                outcomes.append(len(await ws.recv()))
        try:
            await connect("/no")
        except Exception as exc:
            # The refusal, an InvalidStatus of the library under test.
            response = cast("InvalidStatus | CompatInvalidStatus", exc).response
            outcomes.append((type(exc).__name__, response.status_code, bytes(response.body)))
    return outcomes


@pytest.mark.parametrize("transport", ["tcp", "tls", "unix"])
def test_same_outcome_on_uvloop(transport: str, tmp_path: pathlib.Path) -> None:
    results = {
        library: uvloop.run(exchange(library, transport, str(tmp_path / f"{library}.sock")))
        for library in LIBRARIES
    }
    assert results["compat"] == results["websockets"]
    assert results["compat"][-1] == ("InvalidStatus", 403, b"no\n")
