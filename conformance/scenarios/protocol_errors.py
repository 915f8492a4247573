"""RFC 6455 violations by the peer and the close codes they cause."""

from __future__ import annotations

from typing import Any

from ..raw import OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, close_payload
from ..scenario import Pair, family
from ._shapes import both_directions, peer_sends

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("protocol.reserved-opcode", "a frame with reserved opcode 3", {"frames": [(3, b"x", {})]}),
    ("protocol.reserved-control-opcode", "a frame with reserved opcode 11",
     {"frames": [(11, b"", {})]}),
    ("protocol.rsv1", "RSV1 set without an extension",
     {"frames": [(OP_TEXT, b"a", {"rsv1": True})]}),
    ("protocol.rsv2", "RSV2 set", {"frames": [(OP_BINARY, b"a", {"rsv2": True})]}),
    ("protocol.fragmented-ping", "a fragmented control frame",
     {"frames": [(OP_PING, b"p", {"fin": False})]}),
    ("protocol.long-ping", "a control frame over 125 bytes",
     {"frames": [(OP_PING, b"p" * 126, {})]}),
    ("protocol.orphan-continuation", "a continuation without a start",
     {"frames": [(OP_CONT, b"a", {})]}),
    ("protocol.interleaved-data", "a new data frame inside a fragmented message",
     {"frames": [(OP_TEXT, b"a", {"fin": False}), (OP_TEXT, b"b", {})]}),
    ("protocol.ping-inside-fragments", "a ping between fragments is fine",
     {"frames": [(OP_TEXT, b"a", {"fin": False}), (OP_PING, b"p", {}), (OP_CONT, b"b", {}),
                 (OP_CLOSE, close_payload(1000), {})]}),
    ("protocol.close-inside-fragments", "a close frame between the fragments of a message",
     {"frames": [(OP_TEXT, b"a", {"fin": False}), (OP_CLOSE, close_payload(1000), {})]}),
    ("protocol.unmasked-client-frame", "an unmasked frame from the client",
     {"frames": [(OP_TEXT, b"a", {"mask": None})], "only": "server"}),
    ("protocol.masked-server-frame", "a masked frame from the server",
     {"frames": [(OP_TEXT, b"a", {"mask": b"abcd"})], "only": "client"}),
    ("protocol.invalid-utf8", "invalid UTF-8 in a text frame",
     {"frames": [(OP_TEXT, b"\xff\xfe", {})]}),
    ("protocol.invalid-utf8-fragmented", "invalid UTF-8 across text fragments",
     {"frames": [(OP_TEXT, b"\xc3", {"fin": False}), (OP_CONT, b"(", {})]}),
    ("protocol.split-code-point", "a code point split across fragments is valid",
     {"frames": [(OP_TEXT, b"\xc3", {"fin": False}), (OP_CONT, b"\xa9", {}),
                 (OP_CLOSE, close_payload(1000), {})]}),
    ("protocol.close-one-byte", "a close frame with a 1-byte payload",
     {"frames": [(OP_CLOSE, b"\x03", {})]}),
    ("protocol.close-invalid-utf8-reason", "a close reason that is not UTF-8",
     {"frames": [(OP_CLOSE, close_payload(1000, b"\xff"), {})]}),
    ("protocol.data-after-close", "data after a close frame is ignored",
     {"frames": [(OP_CLOSE, close_payload(1000, "bye"), {}), (OP_TEXT, b"late", {})]}),
    *(
        (f"protocol.close-code-{code}", f"close code {code} is invalid",
         {"frames": [(OP_CLOSE, close_payload(code), {})]})
        for code in (999, 1004, 1005, 1006, 1015, 2999, 5000)
    ),
]

TO_CLIENT, TO_SERVER = both_directions(CASES)


@family("protocol", TO_CLIENT, sides="client")
async def raw_server_sends(pair: Pair, **kwargs: Any) -> Any:
    """A raw server sends frames; the client reports recv outcomes and its close."""
    return await peer_sends(pair, **kwargs)


@family("protocol", TO_SERVER, sides="server")
async def raw_client_sends(pair: Pair, **kwargs: Any) -> Any:
    """A raw client sends frames; the server handler reports recv outcomes and its close."""
    return await peer_sends(pair, **kwargs)
