"""websockets' ``connect()``, except that its connections' ``close()`` sends the reason in
capitals."""

from __future__ import annotations

from typing import Any

from websockets.asyncio import client

__all__ = ["ClientConnection", "connect"]


class ClientConnection(client.ClientConnection):
    """websockets' client connection, closing with its reason in capitals."""

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await super().close(code, reason.upper())


class connect(client.connect):
    """websockets' ``connect``, making connections of this module's class by default."""

    def __init__(
        self,
        uri: str,
        *,
        create_connection: type[client.ClientConnection] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(uri, create_connection=create_connection or ClientConnection, **kwargs)
