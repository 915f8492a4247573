"""Which side a connection plays and which state it is in, as in ``websockets.protocol``."""

from __future__ import annotations

import enum

__all__ = ["CLIENT", "CLOSED", "CLOSING", "CONNECTING", "OPEN", "SERVER", "Side", "State"]


class Side(enum.IntEnum):
    """A WebSocket connection is either a server or a client."""

    SERVER = 0
    CLIENT = 1


SERVER = Side.SERVER
CLIENT = Side.CLIENT


class State(enum.IntEnum):
    """A WebSocket connection is in one of these four states."""

    CONNECTING = 0
    OPEN = 1
    CLOSING = 2
    CLOSED = 3


CONNECTING = State.CONNECTING
OPEN = State.OPEN
CLOSING = State.CLOSING
CLOSED = State.CLOSED
