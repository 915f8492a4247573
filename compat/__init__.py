"""compat: the websockets.asyncio API on the picows core.

Change ``import websockets`` to ``import compat`` (and ``websockets.asyncio.client`` to
``compat.asyncio.client``, and so on): connections, servers, exceptions and data structures behave
as in websockets 17; what isn't supported raises :exc:`~compat.exceptions.UnsupportedFeature`.
"""

from __future__ import annotations

from . import exceptions, typing
from .asyncio.client import ClientConnection, connect, unix_connect
from .asyncio.router import Router, route, unix_route
from .asyncio.server import Server, ServerConnection, basic_auth, broadcast, serve, unix_serve
from .datastructures import Headers, HeadersLike, MultipleValuesError
from .exceptions import *  # noqa: F403  (every exception, UnsupportedFeature included)
from .frames import Close, CloseCode, Frame, Opcode
from .http11 import Request, Response
from .protocol import Side, State
from .typing import *  # noqa: F403  (the type aliases of public signatures)
from .version import version as __version__

__all__ = [
    "ClientConnection",
    "Close",
    "CloseCode",
    "Frame",
    "Headers",
    "HeadersLike",
    "MultipleValuesError",
    "Opcode",
    "Request",
    "Response",
    "Router",
    "Server",
    "ServerConnection",
    "Side",
    "State",
    "__version__",
    "basic_auth",
    "broadcast",
    "connect",
    "route",
    "serve",
    "unix_connect",
    "unix_route",
    "unix_serve",
]
__all__ += exceptions.__all__
__all__ += typing.__all__
