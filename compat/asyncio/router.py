"""Dispatching connections to handlers by URL: :func:`route`, :func:`unix_route`, :class:`Router`.

URL patterns are werkzeug's (:mod:`werkzeug.routing`), an optional dependency installed with
``compat[router]``. This module imports without it; :func:`route` and :func:`unix_route` then
raise :exc:`ImportError`, as websockets' do.
"""

from __future__ import annotations

import http
import ssl as ssl_module
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol, cast

from ..http11 import Request, Response
from ..typing import PathLike
from .server import ProcessRequest, ServerConnection, serve, unix_serve

try:
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import Map, RequestRedirect
except ImportError:
    WERKZEUG = False
else:
    WERKZEUG = True

__all__ = ["Router", "route", "unix_route"]

Handler = Callable[..., Awaitable[None]]


class _Routed(Protocol):
    """A routed connection: the match is kept on it, in the attributes websockets uses."""

    handler: Handler
    handler_kwargs: Mapping[str, Any]


def _require_werkzeug(function: str) -> None:
    """Fail as websockets does when the optional werkzeug isn't installed."""
    if not WERKZEUG:
        raise ImportError(f"{function} requires werkzeug")


def _answer(
    connection: ServerConnection, status: http.HTTPStatus, text: str, **headers: str
) -> Response:
    """A plain-text response refusing the handshake, with ``headers`` added."""
    response = connection.respond(status, text)
    response.headers.update(headers)
    return response


class Router:
    """Matches each opening request against a URL map, as websockets' ``Router``.

    :meth:`route_request` runs as the ``process_request`` hook: it answers 404 when nothing
    matches, 302 when werkzeug asks for a redirect (e.g. a missing trailing slash), and
    otherwise remembers the endpoint and its URL parameters for :meth:`handler`. Subclass it
    and pass ``create_router`` to :func:`route` to change these answers.
    """

    def __init__(
        self, url_map: Map, server_name: str | None = None, url_scheme: str = "ws"
    ) -> None:
        self.url_map, self.server_name, self.url_scheme = url_map, server_name, url_scheme
        # werkzeug matches ws:// and wss:// URLs only against rules marked as WebSocket ones.
        for rule in url_map.iter_rules():
            rule.websocket = True

    def get_server_name(self, connection: ServerConnection, request: Request) -> str:
        """The host matched against host rules and put in redirects: ``server_name`` or Host."""
        return request.headers["Host"] if self.server_name is None else self.server_name

    def redirect(self, connection: ServerConnection, url: str) -> Response:
        """302 Found to ``url``."""
        return _answer(connection, http.HTTPStatus.FOUND, f"Found at {url}", Location=url)

    def not_found(self, connection: ServerConnection) -> Response:
        """404 Not Found."""
        return _answer(connection, http.HTTPStatus.NOT_FOUND, "Not Found")

    def route_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Match ``request``: a response refusing it, or None to go on with the handshake."""
        adapter = self.url_map.bind(
            server_name=self.get_server_name(connection, request),
            url_scheme=self.url_scheme,
        )
        url = urllib.parse.urlparse(request.path)
        try:
            endpoint, arguments = adapter.match(path_info=url.path, query_args=url.query)
        except RequestRedirect as redirect:
            return self.redirect(connection, redirect.new_url)
        except NotFound:
            return self.not_found(connection)
        routed = cast(_Routed, connection)
        routed.handler = endpoint
        routed.handler_kwargs = arguments
        return None

    async def handler(self, connection: ServerConnection) -> None:
        """Run the matched endpoint with the connection and the URL parameters."""
        routed = cast(_Routed, connection)
        await routed.handler(connection, **routed.handler_kwargs)


def _routing(
    url_map: Map,
    server_name: str | None,
    ssl: ssl_module.SSLContext | Literal[True] | None,
    create_router: type[Router] | None,
    kwargs: dict[str, Any],
) -> tuple[Handler, dict[str, Any]]:
    """The connection handler for ``url_map`` and the server's keyword arguments.

    ``ssl=True`` only makes redirects ``wss://`` (TLS ended by a proxy); a context is also
    passed to the server. A ``process_request`` hook runs first; routing follows unless it
    answered.
    """
    if ssl is not None and ssl is not True:
        kwargs["ssl"] = ssl
    factory = Router if create_router is None else create_router
    router = factory(url_map, server_name, "ws" if ssl is None else "wss")
    given: ProcessRequest | None = kwargs.pop("process_request", None)
    if given is None:
        kwargs["process_request"] = router.route_request
    else:

        async def process_request(
            connection: ServerConnection, request: Request
        ) -> Response | None:
            response = given(connection, request)
            if isinstance(response, Awaitable):
                response = await response
            return router.route_request(connection, request) if response is None else response

        kwargs["process_request"] = process_request
    return router.handler, kwargs


def route(
    url_map: Map,
    *args: Any,
    server_name: str | None = None,
    ssl: ssl_module.SSLContext | Literal[True] | None = None,
    create_router: type[Router] | None = None,
    **kwargs: Any,
) -> serve:
    """Serve WebSockets, dispatching each connection to a handler by URL, as websockets' route().

    ``url_map`` is a :class:`werkzeug.routing.Map` whose endpoints are handlers; each is called
    with the connection and the URL's converted parameters as keyword arguments. Other
    arguments are :func:`~compat.asyncio.server.serve`'s. Set ``server_name`` to the host as
    clients see it (default: the Host header) and ``ssl=True`` when a proxy ends TLS, so that
    redirects are right.
    """
    _require_werkzeug("route()")
    handler, options = _routing(url_map, server_name, ssl, create_router, kwargs)
    return serve(handler, *args, **options)


def unix_route(
    url_map: Map,
    path: PathLike | None = None,
    **kwargs: Any,
) -> serve:
    """:func:`route` on the Unix socket ``path``, served by :func:`unix_serve`."""
    _require_werkzeug("unix_route()")
    server_name = kwargs.pop("server_name", None)
    ssl = kwargs.pop("ssl", None)
    create_router = kwargs.pop("create_router", None)
    handler, options = _routing(url_map, server_name, ssl, create_router, kwargs)
    return unix_serve(handler, path, **options)
