"""Type aliases used in public signatures, mirroring ``websockets.typing``."""

from __future__ import annotations

import http
import logging
import os
from collections.abc import Sequence
from typing import Any, NewType

__all__ = [
    "Data",
    "ExtensionName",
    "ExtensionParameter",
    "LoggerLike",
    "Origin",
    "StatusLike",
    "Subprotocol",
]

# Header tokens: plain strings to the interpreter, distinct types to a type checker. In order:
# what an Origin header holds; one token of a Sec-WebSocket-Protocol header; the token naming an
# extension in a Sec-WebSocket-Extensions header; one token of a Connection header; one protocol
# of an Upgrade header.
Origin = NewType("Origin", str)
Subprotocol = NewType("Subprotocol", str)
ExtensionName = NewType("ExtensionName", str)
ConnectionOption = NewType("ConnectionOption", str)
UpgradeProtocol = NewType("UpgradeProtocol", str)

ExtensionParameter = tuple[str, str | None]
"""A ``name`` or ``name=value`` parameter of an extension, as ``(name, value or None)``."""

ExtensionHeader = tuple[ExtensionName, Sequence[ExtensionParameter]]
"""An extension with its parameters, as a ``Sec-WebSocket-Extensions`` header lists it."""

# Unions of the types an argument may take.

Data = str | bytes
"""A WebSocket message: :class:`str` for a text frame, :class:`bytes` for a binary frame."""

BytesLike = bytes | bytearray | memoryview
"""Binary data in any of the buffers compat reads from."""

DataLike = str | BytesLike
"""A message to send: text, or binary data in any buffer."""

StatusLike = http.HTTPStatus | int
"""An HTTP status, as the enum member or its number."""

LoggerLike = logging.Logger | logging.LoggerAdapter[Any]
"""A logger, or an adapter around one."""

PathLike = str | bytes | os.PathLike[str] | os.PathLike[bytes]
"""A filesystem path in any form :func:`os.fspath` accepts."""
