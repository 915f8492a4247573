"""Fixtures the unit tests share: a websockets echo server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
