"""Routing is not provided: route at the application level from ``connection.request.path``."""

from __future__ import annotations

from typing import Any, NoReturn

from ..exceptions import UnsupportedFeature

__all__ = ["Router", "route", "unix_route"]

ALTERNATIVE = "serve() a single handler and dispatch on connection.request.path in your application"


def route(*args: Any, **kwargs: Any) -> NoReturn:
    """Not supported: see :data:`ALTERNATIVE`."""
    raise UnsupportedFeature("route()", ALTERNATIVE)


def unix_route(*args: Any, **kwargs: Any) -> NoReturn:
    """Not supported: see :data:`ALTERNATIVE`."""
    raise UnsupportedFeature("unix_route()", ALTERNATIVE)


class Router:
    """Not supported: see :data:`ALTERNATIVE`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise UnsupportedFeature("Router", ALTERNATIVE)
