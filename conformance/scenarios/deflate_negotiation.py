"""permessage-deflate negotiation against raw peers: every parameter, valid or hostile.

A raw server answers a client's offer with exact ``Sec-WebSocket-Extensions`` values, and a raw
client offers exact values to a server. What the client or server then negotiates shows in the
handshake's outcome (the exception, or the accepted header) and in the frames it sends: a
compressed message sent twice shows whether the context was kept and which window was used.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..raw import OP_BINARY, OP_CONT, OP_TEXT, RawConnection
from ..scenario import Pair, family, scenario
from ._shapes import FrameSpec
from .extensions import CLOSE, answering, deflated, raw_client_sends, raw_server_sends

# Bytes that don't compress: 3 kB of SHA-256 output.
NOISE = b"".join(hashlib.sha256(bytes([index])).digest() for index in range(96))
# A message that compresses, sent twice: with context takeover the second frame is shorter.
MESSAGE = "compress me " * 40


def _cases(
    kind: str, keys: tuple[str, str], cases: list[tuple[str, str, str, dict[str, Any] | None]]
) -> list[tuple[str, str, dict[str, Any]]]:
    """Family cases ``deflate-negotiation.<kind>-<name>``: a header value and factory settings."""
    return [
        (f"deflate-negotiation.{kind}-{name}", title, dict(zip(keys, values, strict=True)))
        for name, title, *values in cases
    ]


# (name, title, the server's answer, the client's factory settings or None for the default)
ANSWER_CASES = _cases("answer", ("answer", "client"), [
    ("plain", "plain permessage-deflate", "permessage-deflate", None),
    ("duplicate-extension", "permessage-deflate accepted twice",
     "permessage-deflate, permessage-deflate", None),
    ("server-no-context-takeover", "server_no_context_takeover",
     "permessage-deflate; server_no_context_takeover", None),
    ("server-no-context-takeover-twice", "server_no_context_takeover twice",
     "permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
    ("server-no-context-takeover-value", "server_no_context_takeover with a value",
     "permessage-deflate; server_no_context_takeover=1", None),
    ("client-no-context-takeover", "client_no_context_takeover",
     "permessage-deflate; client_no_context_takeover", None),
    ("client-no-context-takeover-twice", "client_no_context_takeover twice",
     "permessage-deflate; client_no_context_takeover; client_no_context_takeover", None),
    ("client-no-context-takeover-value", "client_no_context_takeover with a value",
     "permessage-deflate; client_no_context_takeover=x", None),
    ("server-window-bits", "server_max_window_bits=10",
     "permessage-deflate; server_max_window_bits=10", None),
    ("server-window-bits-twice", "server_max_window_bits twice",
     "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", None),
    ("server-window-bits-7", "server_max_window_bits=7",
     "permessage-deflate; server_max_window_bits=7", None),
    ("server-window-bits-16", "server_max_window_bits=16",
     "permessage-deflate; server_max_window_bits=16", None),
    ("server-window-bits-word", "server_max_window_bits=ten",
     "permessage-deflate; server_max_window_bits=ten", None),
    ("server-window-bits-no-value", "server_max_window_bits without a value",
     "permessage-deflate; server_max_window_bits", None),
    ("server-window-bits-quoted", "server_max_window_bits as a quoted string",
     'permessage-deflate; server_max_window_bits="10"', None),
    ("server-window-bits-quoted-space", "a quoted value that isn't a token",
     'permessage-deflate; server_max_window_bits="1 0"', None),
    ("server-window-bits-unterminated", "a quoted value without its closing quote",
     'permessage-deflate; server_max_window_bits="10', None),
    ("client-window-bits", "client_max_window_bits=10",
     "permessage-deflate; client_max_window_bits=10", None),
    ("client-window-bits-twice", "client_max_window_bits twice",
     "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10", None),
    ("client-window-bits-no-value", "client_max_window_bits without a value in a response",
     "permessage-deflate; client_max_window_bits", None),
    ("client-window-bits-8", "client_max_window_bits=8",
     "permessage-deflate; client_max_window_bits=8", None),
    ("unknown-parameter", "a parameter permessage-deflate doesn't define",
     "permessage-deflate; level=3", None),
    ("expected-server-no-context-takeover",
     "the client asked for server_no_context_takeover, the server doesn't answer it",
     "permessage-deflate", {"server_no_context_takeover": True}),
    ("client-no-context-takeover-kept",
     "the client asked for client_no_context_takeover, the server doesn't answer it",
     "permessage-deflate", {"client_no_context_takeover": True}),
    ("expected-server-window-bits",
     "the client asked for server_max_window_bits, the server doesn't answer it",
     "permessage-deflate", {"server_max_window_bits": 10}),
    ("larger-server-window-bits",
     "the server answers a larger server_max_window_bits than asked",
     "permessage-deflate; server_max_window_bits=12", {"server_max_window_bits": 10}),
    ("smaller-server-window-bits",
     "the server answers a smaller server_max_window_bits than asked",
     "permessage-deflate; server_max_window_bits=9", {"server_max_window_bits": 10}),
    ("unexpected-client-window-bits",
     "the client didn't offer client_max_window_bits, the server answers it",
     "permessage-deflate; client_max_window_bits=10", {"client_max_window_bits": None}),
    ("client-window-bits-kept",
     "the client offered client_max_window_bits=10, the server doesn't answer it",
     "permessage-deflate", {"client_max_window_bits": 10}),
    ("larger-client-window-bits",
     "the server answers a larger client_max_window_bits than offered",
     "permessage-deflate; client_max_window_bits=12", {"client_max_window_bits": 10}),
    ("smaller-client-window-bits",
     "the server answers a smaller client_max_window_bits than offered",
     "permessage-deflate; client_max_window_bits=9", {"client_max_window_bits": 10}),
])


@family("extensions", ANSWER_CASES, seed="extensions", sides="client")
async def deflate_answers(pair: Pair, answer: str, client: dict[str, Any] | None) -> Any:
    """A raw server answers the client's permessage-deflate offer; the client sends twice."""
    factories = None
    if client is not None:
        factories = [pair.client_deflate.ClientPerMessageDeflateFactory(**client)]
    frames: list[Any] = []

    async def script(conn: RawConnection) -> None:
        for _ in range(2):
            frame = await conn.read_frame()
            if frame is None:
                return
            frames.append(frame.trace())

    async def exchange(ws: Any) -> Any:
        return ws.response.headers.get("Sec-WebSocket-Extensions")

    async with pair.serve_raw(script, answering(answer)) as server:
        outcome = await pair.catch(_connect_and_send(pair, server.url, factories, exchange))
        offers = [request.header("Sec-WebSocket-Extensions") for request in server.requests]
    return {"connect": outcome, "offers": offers, "peer_read": frames}


async def _connect_and_send(pair: Pair, url: str, factories: Any, probe: Any) -> Any:
    """Connect (with ``factories`` when given), send :data:`MESSAGE` twice, then close."""
    options: dict[str, Any] = {} if factories is None else {"extensions": factories,
                                                            "compression": None}
    async with pair.connect(url, **options) as ws:
        accepted = await probe(ws)
        for _ in range(2):
            await ws.send(MESSAGE)
    return {"accepted": accepted}


# (name, title, the client's offer, the server's factory settings or None for the default)
OFFER_CASES = _cases("offer", ("offer", "server"), [
    ("duplicate-extension", "permessage-deflate offered twice",
     "permessage-deflate, permessage-deflate; server_max_window_bits=10", None),
    ("fallback", "a first offer the server declines, then one it accepts",
     "permessage-deflate; server_max_window_bits=8, permessage-deflate", None),
    ("server-no-context-takeover-twice", "server_no_context_takeover twice",
     "permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
    ("server-no-context-takeover-value", "server_no_context_takeover with a value",
     "permessage-deflate; server_no_context_takeover=1", None),
    ("client-no-context-takeover-twice", "client_no_context_takeover twice",
     "permessage-deflate; client_no_context_takeover; client_no_context_takeover", None),
    ("client-no-context-takeover-value", "client_no_context_takeover with a value",
     "permessage-deflate; client_no_context_takeover=x", None),
    ("server-window-bits-twice", "server_max_window_bits twice",
     "permessage-deflate; server_max_window_bits=10; server_max_window_bits=11", None),
    ("server-window-bits-invalid", "server_max_window_bits=16",
     "permessage-deflate; server_max_window_bits=16", None),
    ("client-window-bits-twice", "client_max_window_bits twice",
     "permessage-deflate; client_max_window_bits; client_max_window_bits=10", None),
    ("client-window-bits-invalid", "client_max_window_bits=7",
     "permessage-deflate; client_max_window_bits=7", None),
    ("unknown-parameter", "a parameter permessage-deflate doesn't define",
     "permessage-deflate; level=3", None),
    ("quoted-value", "server_max_window_bits as a quoted string",
     'permessage-deflate; server_max_window_bits="10"', None),
    ("server-no-context-takeover-forced",
     "the server requires server_no_context_takeover, the client doesn't offer it",
     "permessage-deflate", {"server_no_context_takeover": True}),
    ("client-no-context-takeover-forced",
     "the server requires client_no_context_takeover, the client doesn't offer it",
     "permessage-deflate", {"client_no_context_takeover": True}),
    ("server-window-bits-imposed",
     "the server sets server_max_window_bits=10, the client doesn't offer it",
     "permessage-deflate", {"server_max_window_bits": 10}),
    ("server-window-bits-lowered",
     "the server sets server_max_window_bits=10, the client offers 12",
     "permessage-deflate; server_max_window_bits=12", {"server_max_window_bits": 10}),
    ("server-window-bits-kept",
     "the server sets server_max_window_bits=10, the client offers 9",
     "permessage-deflate; server_max_window_bits=9", {"server_max_window_bits": 10}),
    ("server-window-bits-8", "the client offers server_max_window_bits=8",
     "permessage-deflate; server_max_window_bits=8", {}),
    ("client-window-bits-unset", "a server without client_max_window_bits, the client offers it",
     "permessage-deflate; client_max_window_bits", {}),
    ("client-window-bits-value-unset",
     "a server without client_max_window_bits, the client offers 10",
     "permessage-deflate; client_max_window_bits=10", {}),
    ("client-window-bits-answered",
     "the server sets client_max_window_bits=10, the client offers it without a value",
     "permessage-deflate; client_max_window_bits", {"client_max_window_bits": 10}),
    ("client-window-bits-lowered",
     "the server sets client_max_window_bits=10, the client offers 12",
     "permessage-deflate; client_max_window_bits=12", {"client_max_window_bits": 10}),
    ("client-window-bits-smaller",
     "the server sets client_max_window_bits=10, the client offers 9",
     "permessage-deflate; client_max_window_bits=9", {"client_max_window_bits": 10}),
    ("client-window-bits-not-offered",
     "the server sets client_max_window_bits=10, the client doesn't offer it",
     "permessage-deflate", {"client_max_window_bits": 10}),
])


@family("extensions", OFFER_CASES, seed="extensions", sides="server")
async def deflate_offers(pair: Pair, offer: str, server: dict[str, Any] | None) -> Any:
    """A raw client offers permessage-deflate; the server answers and sends twice."""
    options: dict[str, Any] = {}
    if server is not None:
        options = {
            "extensions": [pair.server_deflate.ServerPerMessageDeflateFactory(**server)],
            "compression": None,
        }

    async def handler(ws: Any) -> None:
        for _ in range(2):
            await ws.send(MESSAGE)
        await ws.wait_closed()

    headers = [("Sec-WebSocket-Extensions", offer)]
    async with (
        pair.serve(handler, **options) as url,
        pair.connect_raw(url, headers=headers) as conn,
    ):
        result = {**conn.handshake_trace(), "accepted": conn.header("Sec-WebSocket-Extensions")}
        if conn.status == 101:
            frames = [await conn.read_frame() for _ in range(2)]
            result["peer_read"] = [None if frame is None else frame.trace() for frame in frames]
            await conn.send_close(1000)
            await conn.read_until_eof()
    return result



def _frame_cases(
    cases: list[tuple[str, str, list[FrameSpec]] | tuple[str, str, list[FrameSpec], Any]],
) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (f"deflate-negotiation.frames-{case[0]}.{side}",
         f"{case[1]} (to the {side.removeprefix('to-')})",
         {"frames": case[2], "answers": ["permessage-deflate"], **dict(*case[3:])})
        for case in cases
        for side in ("to-client", "to-server")
    ]


# Frames a raw peer sends once permessage-deflate is negotiated.
FRAME_CASES = _frame_cases([
    ("uncompressed", "an uncompressed message, without RSV1",
     [(OP_TEXT, b"plain", {}), CLOSE]),
    ("uncompressed-fragments", "an uncompressed fragmented message",
     [(OP_TEXT, b"pla", {"fin": False}), (OP_CONT, b"in", {}), CLOSE]),
    ("compressed-fragments", "a compressed message in three fragments",
     [(OP_TEXT, deflated(b"fragmented")[:2], {"rsv1": True, "fin": False}),
      (OP_CONT, deflated(b"fragmented")[2:4], {"fin": False}),
      (OP_CONT, deflated(b"fragmented")[4:], {}), CLOSE]),
    ("corrupt", "compressed data that doesn't decompress",
     [(OP_BINARY, b"\xff\xff\xff\xff", {"rsv1": True})]),
    ("large", "a compressed message of more than 2 kB of compressed data",
     [(OP_BINARY, deflated(NOISE), {"rsv1": True}), CLOSE]),
    ("over-max-size", "a compressed message that decompresses over max_size",
     [(OP_BINARY, deflated(b"a" * 5000), {"rsv1": True})], {"max_size": 1000}),
])
TO_CLIENT_CASES = [case for case in FRAME_CASES if case[0].endswith(".to-client")]
TO_SERVER_CASES = [case for case in FRAME_CASES if case[0].endswith(".to-server")]


@family("extensions", TO_CLIENT_CASES, seed="extensions", sides="client")
async def deflated_frames_to_client(pair: Pair, **kwargs: Any) -> Any:
    """A raw server negotiates permessage-deflate, then sends frames to the client."""
    return await raw_server_sends(pair, **kwargs)


@family("extensions", TO_SERVER_CASES, seed="extensions", sides="server")
async def deflated_frames_to_server(pair: Pair, **kwargs: Any) -> Any:
    """A raw client negotiates permessage-deflate, then sends frames to the server."""
    return await raw_client_sends(pair, **kwargs)


@scenario("extensions", seed="extensions", sides="client", id="deflate-negotiation.extension-repr")
async def extension_repr(pair: Pair) -> Any:
    """repr() of PerMessageDeflate extensions, as a negotiation would create them."""
    assert pair.client_target is not None
    extension = pair.client_target.module("extensions.permessage_deflate").PerMessageDeflate
    return [
        repr(extension(remote, local, remote_bits, local_bits))
        for remote, local, remote_bits, local_bits in [
            (False, False, 15, 15),
            (True, False, 12, 15),
            (False, True, 9, 10),
        ]
    ]
