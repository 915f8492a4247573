"""Features the seed list declares unsupported, exercised through the client API."""

from __future__ import annotations

from typing import Any

from ..scenario import Pair, scenario
from ._shapes import open_and_close


@scenario("connect", seed="ssl-false", sides="client")
async def wss_with_ssl_false(pair: Pair) -> Any:
    """connect("wss://...", ssl=False)."""
    return await open_and_close(pair, "wss://127.0.0.1:9/", ssl=False, open_timeout=0.5)


@scenario("connect", seed="proxy-tls", sides="client")
async def https_proxy_with_proxy_ssl(pair: Pair) -> Any:
    """connect(..., proxy="https://...", proxy_ssl=...) through a proxy that isn't there."""
    return await open_and_close(
        pair, "ws://127.0.0.1:9/", proxy="https://127.0.0.1:9", proxy_ssl=True, open_timeout=0.5
    )

