"""Settings shared by the echo server, the client driver and the runner."""

from __future__ import annotations

from typing import Any

__all__ = ["CONNECTION_OPTIONS", "ENVIRONMENT", "HOST", "PROGRESS_MARK"]

HOST = "127.0.0.1"

# Options passed to every target's serve() and connect(): Autobahn sends messages up to
# 16 MiB, exercises permessage-deflate and pings on its own schedule.
CONNECTION_OPTIONS: dict[str, Any] = {
    "compression": "deflate",
    "max_size": 2**24,
    "max_queue": 1024,
    "ping_interval": None,
}

# Environment of the echo server and the client driver. Cases 9.3 and 9.4 send messages of up to
# 65,536 fragments; websockets' default bound on fragments per message (4,096) is a security
# limit, not the protocol, so both websockets and compat get a higher one here.
ENVIRONMENT = {"WEBSOCKETS_MAX_FRAGMENTS": str(2**20)}

# Line printed on stdout by the echo server and the client driver when a case is done.
PROGRESS_MARK = "case done"
