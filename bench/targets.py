"""Benchmark targets: the raw picows core and the module roots exposing the websockets API."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["RAW", "TARGETS", "Style", "deflate_server_options", "load_style", "unavailable"]

#: The raw picows core: a WSListener client and server, the limit every target is compared to.
RAW = "picows"

#: Every target, in the order results are printed.
TARGETS = (RAW, "compat", "picows.websockets", "websockets")

#: zlib memory level of websockets' ``compression="deflate"``, which compat copies.
DEFLATE_MEM_LEVEL = 5


@dataclass(frozen=True)
class Style:
    """The asyncio client and server modules of a root exposing the websockets API."""

    client: ModuleType
    server: ModuleType
    exceptions: ModuleType


def load_style(root: str) -> Style:
    """Import ``<root>.asyncio.client``, ``<root>.asyncio.server`` and ``<root>.exceptions``."""
    return Style(
        client=importlib.import_module(f"{root}.asyncio.client"),
        server=importlib.import_module(f"{root}.asyncio.server"),
        exceptions=importlib.import_module(f"{root}.exceptions"),
    )


def unavailable(target: str) -> str | None:
    """Return why ``target`` cannot be imported, or ``None`` if it can."""
    try:
        if target == RAW:
            importlib.import_module("picows")
        else:
            load_style(target)
    except Exception as exc:  # any import failure makes the target unavailable, not the run
        return f"{type(exc).__name__}: {exc}"
    return None


def _answer(bits: int) -> Callable[[Any, Any, Any], Any]:
    """A ``process_response`` hook that answers permessage-deflate with ``bits``-bit windows."""
    answer = f"permessage-deflate; server_max_window_bits={bits}; client_max_window_bits={bits}"

    def process_response(connection: Any, request: Any, response: Any) -> Any:
        if "Sec-WebSocket-Extensions" in response.headers:
            response.headers["Sec-WebSocket-Extensions"] = answer
        return response

    return process_response


def deflate_server_options(root: str, bits: int) -> dict[str, Any]:
    """Arguments of ``serve`` making the server of ``root`` negotiate ``bits``-bit windows.

    The server's answer sets the window of both directions, since every client offers
    ``permessage-deflate; client_max_window_bits``. A root with websockets' extension factory
    gets one configured; picows.websockets has no setting, but configures itself, like its
    client, from the answer, which ``process_response`` can rewrite; any other root only gets
    ``compression="deflate"``, and clients check what was negotiated.
    """
    try:
        module = importlib.import_module(f"{root}.extensions.permessage_deflate")
        factory = module.ServerPerMessageDeflateFactory
    except (ImportError, AttributeError):
        if root == "picows.websockets":
            return {"compression": "deflate", "process_response": _answer(bits)}
        return {"compression": "deflate"}
    return {
        "compression": None,
        "extensions": [
            factory(
                server_max_window_bits=bits,
                client_max_window_bits=bits,
                compress_settings={"memLevel": DEFLATE_MEM_LEVEL},
            )
        ],
    }
