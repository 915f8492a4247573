"""send(): message types, fragmentation and errors, observed as frames by a raw peer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

from ..raw import RawConnection
from ..scenario import Pair, family, scenario
from ._shapes import closed, frames_until_close


async def agen(items: Iterable[Any], fail: bool = False) -> AsyncIterator[Any]:
    """Yield ``items`` asynchronously, then raise if ``fail``."""
    for item in items:
        yield item
    if fail:
        raise RuntimeError("source failed")


SEND_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("send.str", "str is sent as one text frame", {"message": "héllo"}),
    ("send.bytes", "bytes are sent as one binary frame", {"message": b"\x00\xff"}),
    ("send.bytearray", "bytearray is sent as binary", {"message": bytearray(b"ab")}),
    ("send.memoryview", "memoryview is sent as binary", {"message": memoryview(b"abcd")[1:3]}),
    ("send.empty-str", "an empty str is an empty text frame", {"message": ""}),
    ("send.text-true", "text=True sends bytes as a text frame", {"message": b"hi", "text": True}),
    ("send.text-false", "text=False sends str as binary", {"message": "hi", "text": False}),
    ("send.iterable", "an iterable is one fragmented message", {"message": ["a", "b", "c"]}),
    ("send.iterable-bytes", "an iterable of bytes fragments", {"message": [b"a", b"bc"]}),
    ("send.empty-iterable", "an empty iterable sends nothing", {"message": []}),
    ("send.async-iterable", "an async iterable is one fragmented message", {"aiter": ["x", "y"]}),
    ("send.empty-async-iterable", "an empty async iterable sends nothing", {"aiter": []}),
    ("send.mixed-iterable", "mixed str and bytes fragments fail", {"message": ["a", b"b"]}),
    ("send.mixed-async", "mixed async fragments fail", {"aiter": [b"a", "b"]}),
    ("send.dict", "a dict is not a message", {"message": {"a": 1}}),
    ("send.int", "an int is not a message", {"message": 42}),
    ("send.async-raises", "an async iterable raising mid-message", {"aiter": ["a"], "fail": True}),
    ("send.iterable-of-int", "an iterable of ints is rejected", {"message": [1, 2]}),
]


@family("send", SEND_CASES, sides="client")
async def client_sends(pair: Pair, message: Any = None, aiter: Any = None, **kwargs: Any) -> Any:
    """The client sends a message; a raw server records the frames until EOF."""
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        seen.extend(await frames_until_close(conn))

    async with pair.serve_raw(script) as server:
        async with pair.connect(server.url) as ws:
            if aiter is not None:
                message = agen(aiter, kwargs.pop("fail", False))
            sent = await pair.catch(ws.send(message, **kwargs))
            after = await pair.catch(ws.send("after"))
        state = closed(ws)
    return {"send": sent, "after": after, "closed": state, "frames": seen}


@scenario("send", sides="both")
async def send_after_close(pair: Pair) -> Any:
    """send() after a normal close raises ConnectionClosedOK."""

    async def handler(ws: Any) -> None:
        await ws.close()

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        first = await pair.catch(ws.recv())
        after = await pair.catch(ws.send("late"))
    return {"recv": first, "send": after, "closed": closed(ws)}


@scenario("send", sides="both")
async def send_after_error_close(pair: Pair) -> Any:
    """send() after the peer closed with 1011 raises ConnectionClosedError."""

    async def handler(ws: Any) -> None:
        await ws.close(1011, "oops")

    async with pair.serve(handler) as url, pair.connect(url) as ws:
        first = await pair.catch(ws.recv())
        after = await pair.catch(ws.send("late"))
    return {"recv": first, "send": after, "closed": closed(ws)}
