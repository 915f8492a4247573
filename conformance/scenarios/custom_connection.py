"""create_connection: a connection subclass used for every connection, as websockets documents."""

from __future__ import annotations

from typing import Any

from ..scenario import Pair, scenario
from ._shapes import Recorder, hold, open_and_close


def subclass(base: type, log: list[str]) -> type:
    """A subclass of ``base`` that counts its instances and adds a method."""

    class Custom(base):  # type: ignore[misc]  # base: a target's class, known at run time
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            log.append("created")

        def describe(self) -> str:
            return f"{type(self).__name__} in state {self.state.name}"

    return Custom


@scenario("connect", seed="create-connection")
async def client_subclass(pair: Pair) -> Any:
    """connect(create_connection=<ClientConnection subclass>): the connection is one."""
    created: list[str] = []
    custom = subclass(pair.client_module.ClientConnection, created)
    async with pair.serve(hold) as url:
        outcome = await open_and_close(
            pair, url, lambda ws: [ws.describe(), isinstance(ws, custom)], create_connection=custom
        )
    return {"connect": outcome, "created": created}


@scenario("serve", seed="create-connection")
async def server_subclass(pair: Pair) -> Any:
    """serve(create_connection=<ServerConnection subclass>): handlers and hooks get one."""
    created: list[str] = []
    custom = subclass(pair.server_module.ServerConnection, created)
    seen: list[str] = []

    def process_request(connection: Any, request: Any) -> None:
        seen.append(connection.describe())

    async def body(ws: Any) -> Any:
        return [ws.describe(), isinstance(ws, pair.server_module.ServerConnection)]

    recorder = Recorder(body)
    options: dict[str, Any] = {"create_connection": custom, "process_request": process_request}
    async with pair.serve(recorder, **options) as url:
        for _ in range(2):
            async with pair.connect(url):
                await recorder.wait(pair)
    return {"handler": recorder.result, "hook": seen, "created": created}
