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

Data = str | bytes
"""A WebSocket message: :class:`str` for a text frame, :class:`bytes` for a binary frame."""

BytesLike = bytes | bytearray | memoryview
"""Types accepted where :class:`bytes` is expected."""

DataLike = str | bytes | bytearray | memoryview
"""Types accepted where :data:`Data` is expected."""

LoggerLike = logging.Logger | logging.LoggerAdapter[Any]
"""Types accepted where a :class:`~logging.Logger` is expected."""

PathLike = str | bytes | os.PathLike[str] | os.PathLike[bytes]
"""Types accepted where a filesystem path is expected."""

StatusLike = http.HTTPStatus | int
"""Types accepted where an :class:`~http.HTTPStatus` is expected."""

Origin = NewType("Origin", str)
"""Value of an ``Origin`` header."""

Subprotocol = NewType("Subprotocol", str)
"""Subprotocol in a ``Sec-WebSocket-Protocol`` header."""

ExtensionName = NewType("ExtensionName", str)
"""Name of a WebSocket extension."""

ExtensionParameter = tuple[str, str | None]
"""Parameter of a WebSocket extension: name and optional value."""

ExtensionHeader = tuple[ExtensionName, Sequence[ExtensionParameter]]
"""Extension in a ``Sec-WebSocket-Extensions`` header: name and parameters."""

ConnectionOption = NewType("ConnectionOption", str)
"""Connection option in a ``Connection`` header."""

UpgradeProtocol = NewType("UpgradeProtocol", str)
"""Upgrade protocol in an ``Upgrade`` header."""
