"""Every public attribute of the server connection, read from inside each handshake hook.

Applications check addresses in ``process_request`` (allow-lists), read the response in
``process_response`` and the request in ``select_subprotocol``; what each attribute holds at each
point must be websockets'.
"""

from __future__ import annotations

import uuid
from typing import Any

from .. import trace
from ..scenario import Pair, family
from ._shapes import hold, open_and_close

ATTRIBUTES = (
    "id",
    "state",
    "local_address",
    "remote_address",
    "request",
    "response",
    "subprotocol",
    "close_code",
    "close_reason",
    "latency",
    "logger",
)


def observe(connection: Any) -> dict[str, Any]:
    """Each public attribute as trace data, or the exception reading it raised."""
    seen: dict[str, Any] = {}
    for name in ATTRIBUTES:
        try:
            value = getattr(connection, name)
        except Exception as exc:
            seen[name] = trace.exception(exc)
            continue
        seen[name] = describe(name, value)
    return seen


def describe(name: str, value: Any) -> Any:
    """Stable trace data for an attribute's value."""
    if value is None:
        return None
    if name == "id":
        return isinstance(value, uuid.UUID)
    if name in ("local_address", "remote_address"):
        return {"host": value[0], "port_is_int": isinstance(value[1], int)}
    if name == "state":
        return getattr(value, "name", str(value))
    if name == "request":
        return {"path": value.path, "headers": sorted(value.headers)}
    if name == "response":
        return {"status": value.status_code, "headers": sorted(value.headers)}
    if name == "logger":
        return all(hasattr(value, method) for method in ("debug", "info", "error"))
    return trace.data(value)


HOOKS: list[tuple[str, str, dict[str, Any]]] = [
    ("hook-context.process-request", "attributes inside process_request",
     {"hook": "process_request"}),
    ("hook-context.process-response", "attributes inside process_response",
     {"hook": "process_response"}),
    ("hook-context.select-subprotocol", "attributes inside select_subprotocol",
     {"hook": "select_subprotocol"}),
    ("hook-context.async-process-request", "attributes inside an async process_request",
     {"hook": "process_request", "coroutine": True}),
    ("hook-context.handler", "attributes inside the handler", {"hook": "handler"}),
]


@family("attributes", HOOKS)
async def attributes_in_hook(pair: Pair, hook: str, coroutine: bool = False) -> Any:
    """What the connection exposes at one point of its life."""
    seen: dict[str, Any] = {}

    def record(connection: Any, *args: Any) -> Any:
        seen.update(observe(connection))
        if hook == "select_subprotocol":
            return args[0][0] if args and args[0] else None
        return None

    async def record_async(connection: Any, *args: Any) -> Any:
        return record(connection, *args)

    async def handler(ws: Any) -> None:
        record(ws)
        await hold(ws)

    options: dict[str, Any] = {}
    if hook != "handler":
        options[hook] = record_async if coroutine else record
    if hook == "select_subprotocol":
        options["subprotocols"] = ["chat"]
    async with pair.serve(handler if hook == "handler" else hold, **options) as url:
        outcome = await open_and_close(
            pair, url, subprotocols=["chat"] if hook == "select_subprotocol" else None
        )
    return {"connect": outcome, "seen": seen}


async def allow_list(connection: Any, request: Any) -> Any:
    """An IP allow-list: only loopback may connect."""
    if connection.remote_address[0] != "127.0.0.1":
        return connection.respond(403, "Forbidden\n")
    return None


@family("attributes", [("hook-context.allow-list", "an IP allow-list in process_request", {})])
async def ip_allow_list(pair: Pair) -> Any:
    """The documented allow-list pattern lets a loopback client in."""
    with pair.watching_logs() as logs:
        async with pair.serve(hold, process_request=allow_list) as url:
            outcome = await open_and_close(pair, url)
    return {"connect": outcome, "errors": [
        record for record in logs.trace("websockets.server")["connections"]
        if record["level"] == "ERROR"
    ]}
