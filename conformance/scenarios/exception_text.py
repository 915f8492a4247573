"""Exception text: what str() of websockets' exceptions says, built by hand or raised by the API."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

from .. import trace
from ..raw import OP_CLOSE, OP_TEXT, RawConnection, Request, close_payload, default_response
from ..scenario import Pair, family, scenario
from ._shapes import FrameSpec, both_directions, closed, hold, open_and_close, peer_sends
from .handshake_client import responder
from .handshake_server import KEY, UPGRADE, VERSION, request, response_view


def built(build: Callable[[], BaseException]) -> Any:
    """The exception ``build`` returns, or the one it raises, as trace data with its args.

    Warnings it emits are recorded too: category, message, and whether they are attributed to
    the code calling the constructor (stack level) rather than to the library.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exc = build()
        except Exception as raised:
            result = {"raised": trace.exception(raised)}
        else:
            plain = [arg if arg is None or isinstance(arg, str | int) else "?" for arg in exc.args]
            result = {**trace.exception(exc), "args": plain}
    result["warnings"] = [
        {
            "category": warning.category.__name__,
            "message": str(warning.message),
            "attributed_to_caller": warning.filename == __file__,
        }
        for warning in caught
    ]
    return result


@scenario("attributes", sides="client")
async def constructed(pair: Pair) -> Any:
    """Exceptions an application builds itself: str(), args and warnings of each."""
    assert pair.client_target is not None
    exc = pair.client_target.exceptions
    close = pair.client_target.module("frames").Close
    cases: dict[str, Callable[[], BaseException]] = {
        "closed-rcvd-only": lambda: exc.ConnectionClosed(close(1000, "bye"), None),
        "closed-error-rcvd-only": lambda: exc.ConnectionClosedError(close(1011, ""), None),
        "closed-ok-sent-only": lambda: exc.ConnectionClosedOK(None, close(1001, "away")),
        "closed-neither": lambda: exc.ConnectionClosedError(None, None),
        "closed-rcvd-then-sent": lambda: exc.ConnectionClosed(
            close(4000, ""), close(1000, ""), True
        ),
        "closed-sent-then-rcvd": lambda: exc.ConnectionClosed(
            close(3000, "x"), close(1000, ""), False
        ),
        "header-missing": lambda: exc.InvalidHeaderValue("Sec-WebSocket-Key", None),
        "header-empty": lambda: exc.InvalidHeaderValue("Sec-WebSocket-Key", ""),
        "header-invalid": lambda: exc.InvalidHeaderValue("Sec-WebSocket-Key", "abc"),
        "upgrade-empty": lambda: exc.InvalidUpgrade("Upgrade", ""),
        "origin-empty": lambda: exc.InvalidOrigin(""),
        "duplicate-parameter": lambda: exc.DuplicateParameter("server_no_context_takeover"),
        "invalid-parameter-name": lambda: exc.InvalidParameterName("x-unknown"),
        "parameter-value-missing": lambda: exc.InvalidParameterValue(
            "client_max_window_bits", None
        ),
        "parameter-value-empty": lambda: exc.InvalidParameterValue("server_max_window_bits", ""),
        "parameter-value-invalid": lambda: exc.InvalidParameterValue(
            "server_max_window_bits", "16"
        ),
        "payload-too-big-message": lambda: exc.PayloadTooBig("message over the limit"),
        "payload-too-big-empty-message": lambda: exc.PayloadTooBig(""),
        "payload-too-big-message-and-limit": lambda: exc.PayloadTooBig("too big", 10),
        "payload-too-big-size": lambda: exc.PayloadTooBig(2000, 1000),
        "payload-too-big-unknown-size": lambda: exc.PayloadTooBig(None, 1000, 24),
    }
    return {name: built(build) for name, build in cases.items()}


@scenario("attributes", sides="client")
async def payload_too_big_message_attributes(pair: Pair) -> Any:
    """PayloadTooBig built from a message (deprecated): its message attribute, no size."""
    assert pair.client_target is not None
    exc_type = pair.client_target.exceptions.PayloadTooBig
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        exc = exc_type("message over the limit")
    return {
        "str": str(exc),
        "message": exc.message,
        "has": {name: hasattr(exc, name) for name in ("size", "max_size", "current_size")},
    }


EMPTY_HEADER_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("exception-text.empty-accept", "The server's 101 has an empty Sec-WebSocket-Accept",
     {"respond": responder(accept="")}),
]


@family("handshake", EMPTY_HEADER_CASES, sides="client")
async def client_empty_header(pair: Pair, respond: Any) -> Any:
    """A raw server's 101 response with an empty header: connect() raises, saying so."""
    async with pair.serve_raw(None, respond) as server:
        return await open_and_close(pair, server.url)


REQUEST_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("exception-text.empty-key", "A request with an empty Sec-WebSocket-Key",
     {"raw": request("Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: ",
                     VERSION)}),
    ("exception-text.empty-version", "A request with an empty Sec-WebSocket-Version",
     {"raw": request(*UPGRADE, "Sec-WebSocket-Version: ")}),
]


@family("handshake", REQUEST_CASES, sides="server")
async def server_empty_header(pair: Pair, raw: bytes) -> Any:
    """A raw client's request with an empty header: the server's 400 response says so."""
    with pair.watching_logs() as logs:
        async with pair.serve(hold) as url, pair.connect_raw(url, request=raw) as client:
            view = response_view(client)
    failures = [
        entry["exc"]
        for entry in logs.trace("websockets.server")["connections"]
        if entry.get("message") == "! invalid handshake"
    ]
    return {**view, "key": KEY, "logged": failures}


DROPS: list[tuple[str, str, list[FrameSpec]]] = [
    ("1000", "(1000)", [(OP_CLOSE, close_payload(1000, "bye"), {})]),
    ("1001", "(1001)", [(OP_CLOSE, close_payload(1001), {})]),
    ("4000", "(4000)", [(OP_CLOSE, close_payload(4000, "app"), {})]),
    ("empty", "without a code", [(OP_CLOSE, b"", {})]),
    ("after-data", "after a message",
     [(OP_TEXT, b"last", {}), (OP_CLOSE, close_payload(1000), {})]),
]

CLOSE_THEN_DROP: list[tuple[str, str, dict[str, Any]]] = [
    (f"exception-text.close-then-drop-{name}",
     f"the peer sends a close frame {title}, then drops TCP at once",
     {"frames": frames, "abort": True})
    for name, title, frames in DROPS
]

TO_CLIENT, TO_SERVER = both_directions(CLOSE_THEN_DROP)


@family("close", TO_CLIENT, sides="client")
async def server_closes_and_drops(pair: Pair, **kwargs: Any) -> Any:
    """A raw server closes and drops TCP; str() of the client's ConnectionClosed."""
    return await peer_sends(pair, **kwargs)


@family("close", TO_SERVER, sides="server")
async def client_closes_and_drops(pair: Pair, **kwargs: Any) -> Any:
    """A raw client closes and drops TCP; str() of the server's ConnectionClosed."""
    return await peer_sends(pair, **kwargs)


def viewing_factory(pair: Pair) -> Any:
    """A client factory of extension ``x-view``, whose decode() gives close frames a memoryview.

    Extension.decode() may return any bytes-like payload; websockets only expects a memoryview
    in compressed frames it sends, and treats one in a received close frame as an internal error.
    """
    base = pair.client_extensions

    class Viewing(base.Extension):  # type: ignore[misc,name-defined]
        name = "x-view"

        def decode(self, frame: Any, *, max_size: int | None = None) -> Any:
            if frame.opcode == OP_CLOSE:
                return dataclasses.replace(frame, data=memoryview(bytes(frame.data)))
            return frame

        def encode(self, frame: Any) -> Any:
            return frame

    class Factory(base.ClientExtensionFactory):  # type: ignore[misc,name-defined]
        name = "x-view"

        def get_request_params(self) -> list[tuple[str, str | None]]:
            return []

        def process_response_params(self, params: Any, accepted_extensions: Any) -> Any:
            return Viewing()

    return Factory()


@scenario("extensions", sides="client")
async def close_frame_as_memoryview(pair: Pair) -> Any:
    """An extension decodes a close frame to a memoryview: the client fails with 1011."""

    def respond(request: Request) -> bytes:
        return default_response(request, [("Sec-WebSocket-Extensions", "x-view")])

    async def script(conn: RawConnection) -> None:
        await conn.send_close(4000, "bye")
        await conn.read_frame()
        await conn.aclose()

    async with pair.serve_raw(script, respond) as server:
        async with pair.connect(
            server.url, extensions=[viewing_factory(pair)], compression=None
        ) as ws:
            outcome = await pair.catch(ws.recv())
            state = closed(ws)
        peer_read = server.connections[0].trace() if server.connections else []
    logged = pair.logged_errors()
    return {"recv": outcome, "closed": state, "peer_read": peer_read, "logged": logged}
