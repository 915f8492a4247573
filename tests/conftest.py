"""What the unit tests share: a websockets echo server on 127.0.0.1, the errors of connect()."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve


async def echo_websocket(websocket: ServerConnection) -> None:
    """Send back every message until the connection closes."""
    async for message in websocket:
        await websocket.send(message)


@pytest.fixture
async def server_port() -> AsyncIterator[int]:
    """Port of a websockets echo server on 127.0.0.1."""
    async with serve(echo_websocket, "127.0.0.1", 0) as server:
        yield server.sockets[0].getsockname()[1]


#: Bound on a connection attempt whose failure :func:`failure` reports.
CONNECT_TIMEOUT = 10.0


async def failure(root: str, uri: str, **kwargs: Any) -> list[tuple[str, str]]:
    """The exception ``connect()`` of ``root`` raises, then its causes: names and messages."""
    client = importlib.import_module(f"{root}.asyncio.client")
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            connection = await client.connect(uri, **kwargs)
    except Exception as exc:
        chain: list[tuple[str, str]] = []
        error: BaseException | None = exc
        while error is not None:
            chain.append((type(error).__name__, str(error)))
            error = error.__cause__
        return chain
    await connection.close()
    raise AssertionError(f"{root} connected")
