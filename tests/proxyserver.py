"""
What the network tests of ``connect()`` share: a scripted HTTP proxy, and a message exchange run
with websockets or with compat. Servers the conformance scenarios use too (pproxy, scripted TCP
servers, a relaying HTTP proxy) come from :mod:`conformance.scenarios._proxies`.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from conformance.scenarios._proxies import Handler, PProxy, free_port, relay, tcp_server

__all__ = [
    "ECHO",
    "Handler",
    "Outcome",
    "PProxy",
    "exchange",
    "free_port",
    "http_proxy",
    "relay",
    "summary",
    "tcp_server",
]

EXCHANGE_TIMEOUT = 10.0
OPEN_TIMEOUT = 5.0
ECHO = ("echo", "hello")

#: What a connection attempt came to: :data:`ECHO`, or the :func:`summary` of an exception.
Outcome = tuple[str | int | None, ...]


def http_proxy(reply: bytes, requests: list[bytes]) -> Handler:
    """Record each request head sent to an HTTP proxy in ``requests``, then send ``reply``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(reply)
        await writer.drain()

    return handle


def summary(exc: Exception) -> Outcome:
    """Reduce ``exc`` to its class name and message."""
    return ("raised", type(exc).__name__, str(exc))


async def exchange(root: str, uri: str, **kwargs: Any) -> Outcome:
    """
    Connect to the echo server at ``uri`` with the ``connect()`` of ``root`` (``"websockets"``
    or ``"compat"``) and exchange a message; return :data:`ECHO` or the :func:`summary` of the
    exception raised.
    """
    client = importlib.import_module(f"{root}.asyncio.client")
    kwargs.setdefault("open_timeout", OPEN_TIMEOUT)
    try:
        async with asyncio.timeout(EXCHANGE_TIMEOUT):
            async with client.connect(uri, **kwargs) as websocket:
                await websocket.send("hello")
                return ("echo", await websocket.recv())
    except Exception as exc:
        return summary(exc)
