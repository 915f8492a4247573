"""websockets' asyncio server, unchanged."""

from websockets.asyncio.server import (
    Server,
    ServerConnection,
    basic_auth,
    broadcast,
    serve,
    unix_serve,
)

__all__ = ["Server", "ServerConnection", "basic_auth", "broadcast", "serve", "unix_serve"]
