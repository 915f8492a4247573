"""Argument validation of serve() and connect(): the exception type and message for bad values.

A wrong argument must fail where websockets fails it — at the call, when the server starts, or
when a connection opens — with the same exception.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .. import trace
from ..scenario import Pair, family
from ._shapes import hold, open_and_close

SERVE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"arguments.serve-{name}", f"serve({title})", {"options": options})
    for name, title, options in [
        ("subprotocols-str", 'subprotocols="chat"', {"subprotocols": "chat"}),
        ("subprotocols-space", 'subprotocols=["bad proto"]', {"subprotocols": ["bad proto"]}),
        ("subprotocols-empty-token", 'subprotocols=[""]', {"subprotocols": [""]}),
        ("subprotocols-tuple", 'subprotocols=("chat",)', {"subprotocols": ("chat",)}),
        ("subprotocols-set", 'subprotocols={"chat"}', {"subprotocols": {"chat"}}),
        ("compression", 'compression="zlib"', {"compression": "zlib"}),
        ("compression-none", "compression=None", {"compression": None}),
        ("max-queue-inverted", "max_queue=(4, 8)", {"max_queue": (4, 8)}),
        ("max-queue-low-only", "max_queue=(None, 4)", {"max_queue": (None, 4)}),
        ("max-size-tuple", "max_size=(None, 1024)", {"max_size": (None, 1024)}),
        ("write-limit-tuple", "write_limit=(1024, 256)", {"write_limit": (1024, 256)}),
        ("origins-str", 'origins="http://a"', {"origins": "http://a"}),
        ("server-header-none", "server_header=None", {"server_header": None}),
        ("unknown-keyword", "an unknown keyword argument", {"no_such_option": 1}),
    ]
]


@family("serve", SERVE_CASES)
async def serve_argument(pair: Pair, options: dict[str, Any]) -> Any:
    """The outcome of serve(**options): when it fails, with what, or a connection's outcome."""
    try:
        call = pair.server_module.serve(hold, "127.0.0.1", 0, **options)
    except Exception as exc:
        return {"call": trace.exception(exc)}
    try:
        server = await asyncio.wait_for(call, pair.timeout)
    except Exception as exc:
        return {"start": trace.exception(exc)}
    try:
        return {"connect": await open_and_close(pair, pair.url(server))}
    finally:
        await pair.stop(server)


CONNECT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"arguments.connect-{name}", f"connect({title})", {"options": options, "url": url})
    for name, title, options, url in [
        ("subprotocols-str", 'subprotocols="chat"', {"subprotocols": "chat"}, None),
        ("subprotocols-space", 'subprotocols=["bad proto"]', {"subprotocols": ["bad proto"]},
         None),
        ("compression", 'compression="zlib"', {"compression": "zlib"}, None),
        ("max-queue-inverted", "max_queue=(4, 8)", {"max_queue": (4, 8)}, None),
        ("scheme-http", "an http:// URI", {}, "http://127.0.0.1/"),
        ("no-host", "a URI without host", {}, "ws:///path"),
        ("fragment", "a URI with a fragment", {}, "ws://127.0.0.1/#frag"),
        ("ssl-with-ws", "ssl=True with ws://", {"ssl": True}, None),
        ("user-agent-none", "user_agent_header=None", {"user_agent_header": None}, None),
        ("additional-headers-list", "additional_headers as a list of pairs",
         {"additional_headers": [("X-A", "1"), ("X-A", "2")]}, None),
        ("origin", 'origin="http://a"', {"origin": "http://a"}, None),
    ]
]


@family("connect", CONNECT_CASES)
async def connect_argument(pair: Pair, options: dict[str, Any], url: str | None) -> Any:
    """The outcome of connect(url, **options) to a target server."""
    async with pair.serving(hold) as server:
        target = url or pair.url(server)
        try:
            call = pair.client_module.connect(target, **options)
        except Exception as exc:
            return {"call": trace.exception(exc)}
        try:
            ws = await asyncio.wait_for(call, pair.timeout)
        except Exception as exc:
            return {"open": trace.exception(exc)}
        with contextlib.suppress(Exception):
            await ws.close()
        return {"open": trace.state(ws)}
