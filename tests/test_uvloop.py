"""The server's opening handshake and hand-off to picows on uvloop, over TCP and TLS.

uvloop's transports aren't asyncio's: the same exchange runs on websockets' and compat's servers
under uvloop and must have the same outcome.
"""

from __future__ import annotations

import asyncio
import importlib
import ssl
from typing import Any

import pytest
import trustme

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


async def exchange(library: str, secure: bool) -> list[Any]:
    """Echo messages of several sizes, then a refusal from an asynchronous hook."""
    server_module = importlib.import_module(f"{library}.asyncio.server")
    client_module = importlib.import_module("websockets.asyncio.client")
    server_context, client_context = contexts()

    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async def hook(connection: Any, request: Any) -> Any:
        await asyncio.sleep(0)
        return connection.respond(403, "no\n") if request.path == "/no" else None

    outcomes: list[Any] = []
    tls = {"ssl": server_context} if secure else {}
    scheme = "wss" if secure else "ws"
    client_tls = {"ssl": client_context} if secure else {}
    async with server_module.serve(echo, "127.0.0.1", 0, process_request=hook, **tls) as server:
        url = f"{scheme}://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with client_module.connect(f"{url}/", **client_tls) as ws:
            for size in (1, 70_000, 300_000):
                await ws.send("x" * size)
                outcomes.append(len(await ws.recv()))
        try:
            await client_module.connect(f"{url}/no", **client_tls)
        except Exception as exc:
            response = exc.response
            outcomes.append((type(exc).__name__, response.status_code, bytes(response.body)))
    return outcomes


@pytest.mark.parametrize("secure", [False, True], ids=["tcp", "tls"])
def test_same_outcome_on_uvloop(secure: bool) -> None:
    results = {library: uvloop.run(exchange(library, secure)) for library in LIBRARIES}
    assert results["compat"] == results["websockets"]
    assert results["compat"][-1] == ("InvalidStatus", 403, b"no\n")
