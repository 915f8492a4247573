"""Connection attributes: id, logger, addresses, request, response and subprotocol."""

from __future__ import annotations

import uuid
from typing import Any

from ..scenario import Pair, scenario
from ._shapes import Recorder


def describe(ws: Any, port: int, client: bool) -> dict[str, Any]:
    """Stable facts about a connection's attributes."""
    local, remote = ws.local_address, ws.remote_address
    server_address = remote if client else local
    return {
        "id_is_uuid": isinstance(ws.id, uuid.UUID),
        "logger": all(callable(getattr(ws.logger, name, None)) for name in ("debug", "error")),
        "local_host": local[0],
        "remote_host": remote[0],
        "address_shape": [type(local).__name__, len(local), type(remote).__name__, len(remote)],
        "server_port_matches": server_address[1] == port,
        "subprotocol": ws.subprotocol,
        "request_path": ws.request.path,
        "response_status": int(ws.response.status_code),
        "response_headers": {
            name: ws.response.headers.get(name)
            for name in ("Upgrade", "Connection", "Sec-WebSocket-Protocol")
        },
    }


@scenario("attributes")
async def connection_attributes(pair: Pair) -> Any:
    """Both sides: UUID id, logger, 127.0.0.1 addresses, server port, request and response."""
    async def body(ws: Any) -> Any:
        return {**describe(ws, port, client=False), "peer_port": ws.remote_address[1]}

    recorder = Recorder(body)
    async with pair.serving(recorder, subprotocols=["chat"]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with pair.connect(pair.url(server, "/attrs?x=1"), subprotocols=["chat"]) as ws:
            client = describe(ws, port, client=True)
            server_side = await recorder.wait(pair)
            if isinstance(server_side.get("result"), dict):
                peer_port = server_side["result"].pop("peer_port")
                client["local_port_seen_by_server"] = peer_port == ws.local_address[1]
    return {"client": client, "server": server_side}


@scenario("attributes")
async def request_headers_selected(pair: Pair) -> Any:
    """The server sees Host and the WebSocket key; values that vary are hidden."""

    async def body(ws: Any) -> Any:
        headers = ws.request.headers
        return {
            "host_matches": headers.get("Host") == f"127.0.0.1:{port}",
            "has_key": bool(headers.get("Sec-WebSocket-Key")),
            "version": headers.get("Sec-WebSocket-Version"),
        }

    recorder = Recorder(body)
    async with pair.serving(recorder) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        async with pair.connect(pair.url(server)) as ws:
            accept = bool(ws.response.headers.get("Sec-WebSocket-Accept"))
            return {"server": await recorder.wait(pair), "client_sees_accept": accept}
