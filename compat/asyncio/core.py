"""How compat drives picows, its core: settings, picows' message types, argument helpers.

Clients, servers and connections share these, so they live apart from the connection: the
settings compat passes to picows for every connection, the log of picows itself, the mapping
between picows' message types and compat's opcodes, and the parsing of limit arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from picows import WSMsgType

from ..frames import Opcode
from ..headers import validate_subprotocols
from ..typing import Subprotocol

# Client or server extension factories.
Factory = TypeVar("Factory")

__all__ = [
    "BINARY",
    "CLOSE",
    "CONTINUATION",
    "MSG_TYPES",
    "OPCODES",
    "PING",
    "PONG",
    "READ_BUFFER_SIZE",
    "TEXT",
    "BytesLike",
    "CoreLogger",
    "checked_options",
    "core_logger",
    "limits",
    "queue_bounds",
]

TEXT = WSMsgType.TEXT
BINARY = WSMsgType.BINARY
CONTINUATION = WSMsgType.CONTINUATION
PING = WSMsgType.PING
PONG = WSMsgType.PONG
CLOSE = WSMsgType.CLOSE

# compat's opcodes for picows' message types, and back, for frames that extensions transform.
OPCODES = {
    CONTINUATION: Opcode.CONT,
    TEXT: Opcode.TEXT,
    BINARY: Opcode.BINARY,
    CLOSE: Opcode.CLOSE,
    PING: Opcode.PING,
    PONG: Opcode.PONG,
}
MSG_TYPES = {opcode: msg_type for msg_type, opcode in OPCODES.items()}

# The payloads picows sends as given.
BytesLike = (bytes, bytearray, memoryview)

# Initial size of picows' read buffer for each connection. picows doubles it whenever a frame
# doesn't fit, so a small start costs a few reallocations for large messages and keeps idle
# connections as light as websockets' (picows' default, 16 KiB, would triple their memory).
READ_BUFFER_SIZE = 2048


class CoreLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The log of picows itself, quieter than picows' default.

    compat logs connection events as websockets does and reports framing errors to the application
    through close codes and exceptions, so picows' own messages about the same events are demoted to
    DEBUG. Messages carrying a traceback (a failure inside compat) keep their level.
    """

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if level < logging.CRITICAL and not kwargs.get("exc_info"):
            level = min(level, logging.DEBUG)
        super().log(level, msg, *args, **kwargs)


core_logger = CoreLogger(logging.getLogger("compat.core"), {})


def limits(value: int | tuple[int | None, int | None] | None) -> tuple[int | None, int | None]:
    """Split a ``max_queue`` / ``max_size`` argument into its two bounds."""
    if isinstance(value, tuple):
        return value
    return value, None


def queue_bounds(
    max_queue: int | tuple[int | None, int | None] | None,
) -> tuple[int | None, int | None]:
    """High- and low-water marks of the frame queue; the low one defaults to a quarter."""
    high, low = limits(max_queue)
    if high is not None and low is None:
        low = high // 4
    if high is None and low is not None:
        high = low * 4
    if high is not None and low is not None and not 0 <= low <= high:
        raise ValueError("max_queue must satisfy 0 <= low <= high")
    return high, low


def checked_options(
    subprotocols: Sequence[Subprotocol] | None,
    compression: str | None,
    extensions: Sequence[Factory] | None,
    max_queue: int | tuple[int | None, int | None] | None,
    enable_deflate: Callable[[Sequence[Factory] | None], Sequence[Factory]],
) -> Sequence[Factory] | None:
    """Check the options connect() and serve() share, at the call as websockets does, and
    return the extension factories, with permessage-deflate's for ``compression="deflate"``."""
    if subprotocols is not None:
        validate_subprotocols(subprotocols)
    if compression == "deflate":
        extensions = enable_deflate(extensions)
    elif compression is not None:
        raise ValueError(f"unsupported compression: {compression}")
    queue_bounds(max_queue)
    return extensions
