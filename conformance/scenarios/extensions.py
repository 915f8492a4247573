"""Custom extensions: negotiation, frames through extensions, permessage-deflate factories.

The extensions are written here against each target's own base classes
(``pair.client_extensions`` / ``pair.server_extensions``) and raise each target's exceptions;
they log what they negotiate and every frame they see, and that log is part of the trace:

* ``x-swapcase`` swaps the case of ASCII letters in data frames and sets RSV2;
* ``x-tag`` prefixes data frames with ``<t>`` and sets RSV3; a frame with RSV3 but without the
  prefix is a protocol error;
* ``x-fragile`` fails with RuntimeError on any data frame with RSV2, as a buggy extension would;
* ``x-brittle`` fails with RuntimeError encoding any data frame, so sending fails;
* ``x-glass`` fails with RuntimeError encoding any frame, control frames included.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import types
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from .. import trace
from ..raw import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_TEXT,
    RawConnection,
    Request,
    close_payload,
    default_response,
)
from ..scenario import Pair, family, scenario
from ._shapes import FrameSpec, Recorder, closed, drain, hold, open_and_close, play

# Opcodes of data frames, by value: each target has its own Opcode enum.
DATA_OPCODES = (OP_CONT, OP_TEXT, OP_BINARY)
TAG = b"<t>"

Log = list[Any]


def _swapcase(exceptions: types.ModuleType, data: bytes) -> bytes:
    return data.swapcase()


def _tag(exceptions: types.ModuleType, data: bytes) -> bytes:
    return TAG + data


def _untag(exceptions: types.ModuleType, data: bytes) -> bytes:
    if not data.startswith(TAG):
        raise exceptions.ProtocolError("missing tag")
    return data[len(TAG) :]


def _fail(exceptions: types.ModuleType, data: bytes) -> bytes:
    raise RuntimeError("fragile extension failed")


@dataclasses.dataclass(frozen=True)
class Spec:
    """What an extension of these scenarios does to payloads, and which reserved bit it sets."""

    rsv: str
    encode: Callable[[types.ModuleType, bytes], bytes]
    decode: Callable[[types.ModuleType, bytes], bytes]
    control: bool = False


SPECS = {
    "x-swapcase": Spec("rsv2", _swapcase, _swapcase),
    "x-tag": Spec("rsv3", _tag, _untag),
    "x-fragile": Spec("rsv2", _swapcase, _fail),
    "x-brittle": Spec("rsv2", _fail, _swapcase),
    "x-glass": Spec("rsv2", _fail, _swapcase, control=True),
}


def make_extension(base: types.ModuleType, exceptions: types.ModuleType, name: str) -> type:
    """An extension class named ``name``, subclassing ``base.Extension``."""
    spec = SPECS[name]

    class TestExtension(base.Extension):  # type: ignore[misc,name-defined]
        def __init__(self, params: list[Any], log: Log) -> None:
            self.name = name
            self.params = params
            self.log = log

        def decode(self, frame: Any, *, max_size: int | None = None) -> Any:
            self.log.append(["decode", name, *_frame(frame), max_size])
            if frame.opcode in DATA_OPCODES and getattr(frame, spec.rsv):
                data = spec.decode(exceptions, bytes(frame.data))
                return dataclasses.replace(frame, data=data, **{spec.rsv: False})
            return frame

        def encode(self, frame: Any) -> Any:
            self.log.append(["encode", name, *_frame(frame)])
            if frame.opcode in DATA_OPCODES or spec.control:
                data = spec.encode(exceptions, bytes(frame.data))
                return dataclasses.replace(frame, data=data, **{spec.rsv: True})
            return frame

    return TestExtension


def _frame(frame: Any) -> list[Any]:
    """A frame as an extension sees it: opcode, FIN, reserved bits and payload."""
    bits = [frame.rsv1, frame.rsv2, frame.rsv3]
    return [int(frame.opcode), frame.fin, bits, trace.data(bytes(frame.data))]


@dataclasses.dataclass
class Options:
    """
    How a factory negotiates.

    The client offers ``params`` and refuses answers with other parameters; the server declines
    offers without the ``require``d parameter, answers ``answer`` (default: the offer's
    parameters), and accepts the extension again if not ``unique``. ``fail`` makes the factory
    raise RuntimeError, as a buggy factory would.
    """

    params: list[tuple[str, str | None]] = dataclasses.field(default_factory=list)
    require: str | None = None
    answer: list[tuple[str, str | None]] | None = None
    unique: bool = True
    fail: bool = False


def _negotiated(
    exceptions: types.ModuleType,
    name: str,
    params: Any,
    accepted_extensions: Any,
    options: Options,
    log: Log,
) -> None:
    """Log a negotiation, then refuse it if the extension was already accepted or must fail."""
    names = [other.name for other in accepted_extensions]
    log.append(["negotiate", name, [list(item) for item in params], names])
    if options.fail:
        raise RuntimeError("factory failed")
    if options.unique and name in names:
        raise exceptions.NegotiationError(f"duplicate {name}")


def client_factory(pair: Pair, name: str, log: Log, options: Options | None = None) -> Any:
    """A client factory of extension ``name`` for the client target."""
    base, exceptions = pair.client_extensions, pair.client_exc
    extension = make_extension(base, exceptions, name)
    settings = options or Options()

    class Factory(base.ClientExtensionFactory):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            self.name = name

        def get_request_params(self) -> list[tuple[str, str | None]]:
            return list(settings.params)

        def process_response_params(self, params: Any, accepted_extensions: Any) -> Any:
            _negotiated(exceptions, name, params, accepted_extensions, settings, log)
            offered = {key for key, _ in settings.params}
            for key, _ in params:
                if key not in offered:
                    raise exceptions.NegotiationError(f"unexpected parameter {key}")
            return extension(list(params), log)

    return Factory()


def server_factory(pair: Pair, name: str, log: Log, options: Options | None = None) -> Any:
    """A server factory of extension ``name`` for the server target."""
    base, exceptions = pair.server_extensions, pair.server_exc
    extension = make_extension(base, exceptions, name)
    settings = options or Options()

    class Factory(base.ServerExtensionFactory):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            self.name = name

        def process_request_params(self, params: Any, accepted_extensions: Any) -> Any:
            _negotiated(exceptions, name, params, accepted_extensions, settings, log)
            if settings.require is not None and settings.require not in dict(params):
                raise exceptions.InvalidParameterValue(settings.require, None)
            answer = list(params) if settings.answer is None else list(settings.answer)
            return answer, extension(answer, log)

    return Factory()


FactorySpec = tuple[str, Options]


def _spec(item: str | FactorySpec) -> FactorySpec:
    return (item, Options()) if isinstance(item, str) else item


async def exchange(pair: Pair, ws: Any) -> Any:
    """Echo a text message and a fragmented binary one, then wait for the pong to a ping."""
    await ws.send("Hello World")
    text = await pair.catch(ws.recv())
    await ws.send([b"Frag", b"mented"])
    binary = await pair.catch(ws.recv())

    async def ping() -> bool:
        await (await ws.ping("ping"))
        return True

    return {"text": text, "binary": binary, "ping": await pair.catch(ping())}


def offered(log: Log) -> Callable[[Any, Any], None]:
    """A process_request hook logging the offers the server received."""

    def process_request(connection: Any, request: Any) -> None:
        log.append(["offers", request.headers.get_all("Sec-WebSocket-Extensions")])

    return process_request


async def echo_until_closed(ws: Any) -> Any:
    """Echo messages until the connection closes; return how it closed."""
    with contextlib.suppress(Exception):
        async for message in ws:
            await ws.send(message)
    return closed(ws)


async def negotiated(
    pair: Pair,
    client: list[str | FactorySpec] | None,
    server: list[str | FactorySpec] | None,
    compression: str | None = "deflate",
) -> Any:
    """Both sides with extension factories: the handshake, an exchange, and both logs."""
    client_log: Log = []
    server_log: Log = []
    server_factories = None if server is None else [
        server_factory(pair, name, server_log, options) for name, options in map(_spec, server)
    ]
    client_factories = None if client is None else [
        client_factory(pair, name, client_log, options) for name, options in map(_spec, client)
    ]
    recorder = Recorder(echo_until_closed)
    result: dict[str, Any] = {}
    async with pair.serve(
        recorder,
        extensions=server_factories,
        compression=compression,
        process_request=offered(server_log),
    ) as url:

        async def attempt() -> Any:
            options = {"extensions": client_factories, "compression": compression}
            async with pair.connect(url, **options) as ws:
                result["extensions"] = ws.response.headers.get("Sec-WebSocket-Extensions")
                result["exchange"] = await exchange(pair, ws)
            result["closed"] = closed(ws)
            return True

        result["connect"] = await pair.catch(attempt())
        if result["connect"] == {"result": True}:
            result["server"] = await recorder.wait(pair)
        # Once a handshake failed, only its negotiation is certain to be logged: closing the
        # server may find the connection open or not.
        result["server_log"] = list(server_log)
        result["logged"] = pair.logged_errors()
    return {**result, "client_log": client_log}


NEGOTIATION_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("extensions.accepted", "both sides use x-swapcase, with permessage-deflate",
     {"client": ["x-swapcase"], "server": ["x-swapcase"]}),
    ("extensions.accepted-without-compression", "both sides use x-swapcase alone",
     {"client": ["x-swapcase"], "server": ["x-swapcase"], "compression": None}),
    ("extensions.declined-by-server", "the server has no factory for the offered extension",
     {"client": ["x-swapcase"], "server": None}),
    ("extensions.declined-by-factory", "the server's factory refuses the offer's parameters",
     {"client": [("x-swapcase", Options(params=[("mode", "fast")]))],
      "server": [("x-swapcase", Options(require="level"))]}),
    ("extensions.parameters", "the server answers other parameters than offered",
     {"client": [("x-swapcase", Options(params=[("level", "3"), ("flag", None)]))],
      "server": [("x-swapcase", Options(answer=[("level", "2")]))]}),
    ("extensions.client-refuses-answer", "the client's factory refuses the server's answer",
     {"client": [("x-swapcase", Options(params=[("level", "3")]))],
      "server": [("x-swapcase", Options(answer=[("window", "2")]))]}),
    ("extensions.order", "two extensions, in the client's order of offer",
     {"client": ["x-swapcase", "x-tag"], "server": ["x-tag", "x-swapcase"]}),
    ("extensions.order-reversed", "two extensions, offered in the other order",
     {"client": ["x-tag", "x-swapcase"], "server": ["x-swapcase", "x-tag"]}),
    ("extensions.duplicate-offer", "the client offers an extension twice; accepted once",
     {"client": ["x-swapcase", "x-swapcase"], "server": ["x-swapcase"]}),
    ("extensions.duplicate-answer", "the server accepts an extension twice",
     {"client": ["x-swapcase", "x-swapcase"],
      "server": [("x-swapcase", Options(unique=False))]}),
    ("extensions.server-factory-fails", "the server's factory raises RuntimeError",
     {"client": ["x-swapcase"], "server": [("x-swapcase", Options(fail=True))]}),
    ("extensions.without-client-factories", "extensions=None offers nothing but deflate",
     {"client": None, "server": ["x-swapcase", "x-tag"]}),
    ("extensions.encode-fails", "x-brittle raises RuntimeError encoding the first message",
     {"client": ["x-brittle"], "server": ["x-brittle"]}),
]


@family("extensions", NEGOTIATION_CASES, seed="extensions")
async def negotiation(pair: Pair, **kwargs: Any) -> Any:
    """Extension factories on both sides: what is negotiated and how frames go through."""
    return await negotiated(pair, **kwargs)


async def _fragments(ws: Any) -> None:
    await ws.send(["frag", "ments"])


async def _ping(ws: Any) -> None:
    await ws.ping(b"ping")


async def _pong(ws: Any) -> None:
    await ws.pong(b"unsolicited")


async def _close(ws: Any) -> None:
    await ws.close()


FAILING_SENDS: dict[str, Callable[[Any], Awaitable[None]]] = {
    "fragments": _fragments, "ping": _ping, "pong": _pong, "close": _close,
}
FAILING_SEND_CASES = [
    (f"extensions.encode-fails-on-{name}", f"x-glass raises RuntimeError encoding a {name}",
     {"operation": name})
    for name in FAILING_SENDS
]


@family("extensions", FAILING_SEND_CASES, seed="extensions")
async def failing_send(pair: Pair, operation: str) -> Any:
    """An extension fails encoding what the client sends: the call, the close and the logs."""
    client_log: Log = []
    server_log: Log = []
    recorder = Recorder(echo_until_closed)
    async with pair.serve(
        recorder, extensions=[server_factory(pair, "x-glass", server_log)], compression=None
    ) as url, pair.connect(
        url, extensions=[client_factory(pair, "x-glass", client_log)], compression=None
    ) as ws:
        outcome = await pair.catch(FAILING_SENDS[operation](ws))
        await ws.wait_closed()
        state = closed(ws)
        server = await recorder.wait(pair)
    return {"outcome": outcome, "closed": state, "server": server, "client_log": client_log,
            "server_log": server_log, "logged": pair.logged_errors()}


# permessage-deflate configured with factories, each target's own.

COMPRESSIBLE = "the quick brown fox jumps over the lazy dog; " * 200


async def compressed_exchange(pair: Pair, ws: Any) -> Any:
    """Echo compressible messages, whole and fragmented, and short similar ones."""
    messages: list[Any] = [COMPRESSIBLE, [COMPRESSIBLE[:3000], COMPRESSIBLE[3000:]]]
    messages += [f"message {index}: {COMPRESSIBLE[:50]}" for index in range(3)]
    intact = []
    for message in messages:
        await ws.send(message)
        echoed = await pair.catch(ws.recv())
        expected = message if isinstance(message, str) else "".join(message)
        intact.append(echoed.get("result") == ["str", expected] or echoed)
    return intact


async def deflate_with_factories(
    pair: Pair,
    client: dict[str, Any] | None,
    server: dict[str, Any] | None,
    compression: str | None = "deflate",
    crossed: bool = False,
) -> Any:
    """
    Each side with a permessage-deflate factory configured as given (None: no factory), from
    its own library, or with ``crossed`` from the other side's library.
    """
    client_module = pair.server_deflate if crossed else pair.client_deflate
    server_module = pair.client_deflate if crossed else pair.server_deflate
    client_factories = None if client is None else [
        client_module.ClientPerMessageDeflateFactory(**client)
    ]
    server_factories = None if server is None else [
        server_module.ServerPerMessageDeflateFactory(**server)
    ]
    log: Log = []
    async with pair.serve(
        echo_until_closed,
        extensions=server_factories,
        compression=compression,
        process_request=offered(log),
    ) as url:

        async def attempt() -> Any:
            options = {"extensions": client_factories, "compression": compression}
            async with pair.connect(url, **options) as ws:
                return {
                    "extensions": ws.response.headers.get("Sec-WebSocket-Extensions"),
                    "echoes": await compressed_exchange(pair, ws),
                }

        outcome = await pair.catch(attempt())
    return {"connect": outcome, "offers": log}


DEFLATE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("extensions.deflate-window-bits", "custom window bits on both sides",
     {"client": {"server_max_window_bits": 10, "client_max_window_bits": 11},
      "server": {"server_max_window_bits": 11, "client_max_window_bits": 9}}),
    ("extensions.deflate-no-context-takeover", "no context takeover asked by both sides",
     {"client": {"client_no_context_takeover": True, "server_no_context_takeover": True},
      "server": {"server_no_context_takeover": True, "client_no_context_takeover": True}}),
    ("extensions.deflate-compress-settings", "custom compress_settings on both sides",
     {"client": {"compress_settings": {"memLevel": 1, "level": 1}},
      "server": {"compress_settings": {"memLevel": 9, "level": 9}}}),
    ("extensions.deflate-client-factory", "a client factory against the default server",
     {"client": {"client_max_window_bits": None, "server_max_window_bits": 15},
      "server": None}),
    ("extensions.deflate-server-factory", "a server factory against the default client",
     {"client": None, "server": {"client_max_window_bits": 10, "server_max_window_bits": 9}}),
    ("extensions.deflate-required-window-bits", "the server requires client_max_window_bits",
     {"client": {"client_max_window_bits": None},
      "server": {"client_max_window_bits": 10, "require_client_max_window_bits": True}}),
    ("extensions.deflate-client-window-bits-8", "the server asks the client for 8 bits",
     {"client": {}, "server": {"client_max_window_bits": 8}}),
    ("extensions.deflate-expected-no-context-takeover",
     "the client requires server_no_context_takeover, the server ignores it",
     {"client": {"server_no_context_takeover": True}, "server": None, "compression": None}),
    ("extensions.deflate-factories-without-compression",
     "factories negotiate permessage-deflate with compression=None",
     {"client": {"server_max_window_bits": 12}, "server": {"server_max_window_bits": 10},
      "compression": None}),
]


@family("extensions", DEFLATE_CASES, seed="extensions")
async def deflate_factories(pair: Pair, **kwargs: Any) -> Any:
    """permessage-deflate configured with each target's own factories."""
    return await deflate_with_factories(pair, **kwargs)


# Factories that refuse parameters raise their own library's NegotiationError, which only
# compat takes from another library's factories: the crossed cases are those accepted.
CROSSED = (
    "window-bits", "no-context-takeover", "compress-settings", "factories-without-compression"
)
CROSSED_CASES: list[tuple[str, str, dict[str, Any]]] = [
    (f"{case_id}-crossed", f"{title}, with the other side's factories",
     {**kwargs, "crossed": True})
    for case_id, title, kwargs in DEFLATE_CASES
    if case_id.removeprefix("extensions.deflate-") in CROSSED
]


@family("extensions", CROSSED_CASES, seed="extensions")
async def crossed_deflate_factories(pair: Pair, **kwargs: Any) -> Any:
    """permessage-deflate configured with the factories of the other side's library."""
    return await deflate_with_factories(pair, **kwargs)


INVALID_CLIENT_SETTINGS: list[dict[str, Any]] = [
    {"server_max_window_bits": 7},
    {"server_max_window_bits": 16},
    {"client_max_window_bits": 8},
    {"compress_settings": {"wbits": 10}},
]
INVALID_SERVER_SETTINGS: list[dict[str, Any]] = [
    {"server_max_window_bits": 8},
    {"client_max_window_bits": 16},
    {"compress_settings": {"wbits": 10}},
    {"require_client_max_window_bits": True},
]


@scenario("extensions", seed="extensions")
async def deflate_factory_settings(pair: Pair) -> Any:
    """Invalid permessage-deflate factory settings fail when the factory is created."""

    async def create(factory: Any, settings: dict[str, Any]) -> Any:
        return type(factory(**settings)).__name__

    client = pair.client_deflate.ClientPerMessageDeflateFactory
    server = pair.server_deflate.ServerPerMessageDeflateFactory
    return {
        "client": [await pair.catch(create(client, item)) for item in INVALID_CLIENT_SETTINGS],
        "server": [await pair.catch(create(server, item)) for item in INVALID_SERVER_SETTINGS],
    }


def extension_header(ws: Any) -> Any:
    """The negotiated extensions, as the client saw them."""
    return ws.response.headers.get("Sec-WebSocket-Extensions")


@scenario("connect", seed="extensions")
async def custom_extensions_empty(pair: Pair) -> Any:
    """connect(extensions=[]) and serve(extensions=[]): no custom extension factories."""

    async def attempt() -> Any:
        async with pair.serve(hold, extensions=[]) as url:
            return await open_and_close(pair, url, extension_header, extensions=[])

    return await pair.catch(attempt())


EMPTY_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("extensions.empty-offer", "connect(extensions=[], compression=None) to a default server",
     {"client": {"extensions": [], "compression": None}, "server": {}}),
    ("extensions.empty-server", "serve(extensions=[], compression=None) to a default client",
     {"client": {}, "server": {"extensions": [], "compression": None}}),
    ("extensions.none-without-compression", "no extensions and no compression on both sides",
     {"client": {"compression": None}, "server": {"compression": None}}),
]


@family("extensions", EMPTY_CASES, seed="extensions")
async def empty_extensions(pair: Pair, client: dict[str, Any], server: dict[str, Any]) -> Any:
    """Empty or absent extension lists: what is offered and accepted."""
    log: Log = []
    async with pair.serve(hold, process_request=offered(log), **server) as url:
        outcome = await open_and_close(pair, url, extension_header, **client)
    return {"connect": outcome, "offers": log}


# An extension of the application's own, named permessage-deflate: of no library, and written
# against none of their base classes.


class Reversing:
    """Reverses the payload of data frames, both ways; logs every frame it sees."""

    name = "permessage-deflate"

    def __init__(self, log: Log) -> None:
        self.log = log

    def decode(self, frame: Any, *, max_size: int | None = None) -> Any:
        self.log.append(["decode", *_frame(frame)])
        return self.reversed(frame)

    def encode(self, frame: Any) -> Any:
        self.log.append(["encode", *_frame(frame)])
        return self.reversed(frame)

    @staticmethod
    def reversed(frame: Any) -> Any:
        if frame.opcode not in DATA_OPCODES:
            return frame
        return dataclasses.replace(frame, data=bytes(reversed(bytes(frame.data))))


class ReversingClient:
    """A client factory of :class:`Reversing`, without parameters."""

    name = "permessage-deflate"

    def __init__(self, log: Log) -> None:
        self.log = log

    def get_request_params(self) -> list[tuple[str, str | None]]:
        return []

    def process_response_params(self, params: Any, accepted_extensions: Any) -> Any:
        return Reversing(self.log)


class ReversingServer:
    """A server factory of :class:`Reversing`, without parameters."""

    name = "permessage-deflate"

    def __init__(self, log: Log) -> None:
        self.log = log

    def process_request_params(self, params: Any, accepted_extensions: Any) -> Any:
        return [], Reversing(self.log)


@scenario("extensions", seed="extensions")
async def application_permessage_deflate(pair: Pair) -> Any:
    """An extension named permessage-deflate that isn't a library's is used as it is: it sees
    every frame, both ways (compression=None on both sides)."""
    client_log: Log = []
    server_log: Log = []
    received: list[Any] = []

    async def record(ws: Any) -> Any:
        async for message in ws:
            received.append(message)
            await ws.send(message)
        return closed(ws)

    recorder = Recorder(record)
    async with pair.serve(
        recorder, extensions=[ReversingServer(server_log)], compression=None
    ) as url:

        async def attempt() -> Any:
            async with pair.connect(
                url, extensions=[ReversingClient(client_log)], compression=None
            ) as ws:
                await ws.send("hello")
                return {"echo": await ws.recv(), "extensions": extension_header(ws)}

        outcome = await pair.catch(attempt())
        server = await recorder.wait(pair)
    return {"connect": outcome, "received": received, "server": server,
            "client_log": client_log, "server_log": server_log}


# Raw servers: the exact offers and answers, and frames with reserved bits.


def answering(*values: str) -> Callable[[Request], bytes]:
    """A raw server's 101 response with these Sec-WebSocket-Extensions headers."""

    def respond(request: Request) -> bytes:
        return default_response(request, [("Sec-WebSocket-Extensions", value) for value in values])

    return respond


OFFER_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("extensions.offer-parameters", "an extension with parameters, then permessage-deflate",
     {"client": [("x-swapcase", Options(params=[("level", "3"), ("flag", None)]))]}),
    ("extensions.offer-two", "two extensions, without compression",
     {"client": ["x-swapcase", "x-tag"], "compression": None}),
    ("extensions.offer-empty", "extensions=[] without compression",
     {"client": [], "compression": None}),
    ("extensions.offer-none", "extensions=None without compression",
     {"client": None, "compression": None}),
]


@family("extensions", OFFER_CASES, seed="extensions", sides="client")
async def offers(pair: Pair, client: list[Any] | None, compression: str | None = "deflate") -> Any:
    """The Sec-WebSocket-Extensions header the client sends."""
    log: Log = []
    factories = None if client is None else [
        client_factory(pair, name, log, options) for name, options in map(_spec, client)
    ]
    async with pair.serve_raw(None) as server:
        outcome = await open_and_close(
            pair, server.url, extension_header, extensions=factories, compression=compression
        )
        headers = [request.header("Sec-WebSocket-Extensions") for request in server.requests]
    return {"connect": outcome, "offers": headers, "client_log": log}


ANSWER_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("extensions.answer-accepted", "the server accepts x-swapcase",
     {"answers": ["x-swapcase"]}),
    ("extensions.answer-parameters", "the server accepts x-swapcase with its parameter",
     {"answers": ["x-swapcase; level=1"]}),
    ("extensions.answer-unknown-parameter", "the server answers a parameter not offered",
     {"answers": ["x-swapcase; other=1"]}),
    ("extensions.answer-reordered", "the server answers both extensions in another order",
     {"answers": ["x-tag, x-swapcase"]}),
    ("extensions.answer-two-headers", "the server answers in two headers",
     {"answers": ["x-swapcase", "x-tag"]}),
    ("extensions.answer-duplicate", "the server accepts x-swapcase twice",
     {"answers": ["x-swapcase, x-swapcase"]}),
    ("extensions.answer-not-offered", "the server accepts an extension not offered",
     {"answers": ["x-unknown"]}),
    ("extensions.answer-invalid-header", "the server's header doesn't parse",
     {"answers": ["x-swapcase;"]}),
    ("extensions.answer-with-deflate", "the server accepts permessage-deflate, then x-swapcase",
     {"answers": ["permessage-deflate; server_max_window_bits=10, x-swapcase"]}),
    ("extensions.answer-deflate-not-offered", "the server accepts permessage-deflate unasked",
     {"answers": ["x-swapcase, permessage-deflate"], "compression": None}),
]


@family("extensions", ANSWER_CASES, seed="extensions", sides="client")
async def answers(pair: Pair, answers: list[str], compression: str | None = "deflate") -> Any:
    """A raw server answers the offer of x-swapcase and x-tag; the client sends a message."""
    log: Log = []
    factories = [
        client_factory(pair, "x-swapcase", log, Options(params=[("level", "1")])),
        client_factory(pair, "x-tag", log),
    ]
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        seen.extend(await play(conn, [], abort=False))

    async def attempt() -> Any:
        async with pair.connect(
            server.url, extensions=factories, compression=compression
        ) as ws:
            await ws.send("Hi")
            return extension_header(ws)

    async with pair.serve_raw(script, answering(*answers)) as server:
        outcome = await pair.catch(attempt())
    return {"connect": outcome, "peer_read": seen, "client_log": log}


def deflated(data: bytes) -> bytes:
    """``data`` compressed as one permessage-deflate message with default parameters."""
    compressor = zlib.compressobj(wbits=-15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


CLOSE: FrameSpec = (OP_CLOSE, close_payload(1000), {})

FRAME_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("extensions.frames-rsv2", "a text frame with RSV2, decoded by x-swapcase",
     {"frames": [(OP_TEXT, b"hELLO", {"rsv2": True}), CLOSE]}),
    ("extensions.frames-no-rsv2", "a text frame without RSV2 passes through x-swapcase",
     {"frames": [(OP_TEXT, b"hELLO", {}), CLOSE]}),
    ("extensions.frames-rsv3", "RSV3, which no negotiated extension uses",
     {"frames": [(OP_TEXT, b"hELLO", {"rsv3": True})]}),
    ("extensions.frames-rsv1", "RSV1 without permessage-deflate",
     {"frames": [(OP_BINARY, b"hELLO", {"rsv1": True})]}),
    ("extensions.frames-ping-rsv2", "a ping with RSV2: x-swapcase leaves control frames",
     {"frames": [(OP_PING, b"p", {"rsv2": True})]}),
    ("extensions.frames-fragments", "fragments with and without RSV2, and a ping between",
     {"frames": [(OP_TEXT, b"hE", {"rsv2": True, "fin": False}), (OP_PING, b"ping", {}),
                 (OP_CONT, b"LLO", {"rsv2": True, "fin": False}), (OP_CONT, b" W", {}),
                 CLOSE]}),
    ("extensions.frames-two-extensions", "a frame encoded by x-tag then x-swapcase",
     {"answers": ["x-tag, x-swapcase"],
      "frames": [(OP_TEXT, b"<T>hELLO", {"rsv2": True, "rsv3": True}), CLOSE]}),
    ("extensions.frames-missing-tag", "x-tag refuses a frame without its tag",
     {"answers": ["x-tag, x-swapcase"],
      "frames": [(OP_TEXT, b"hELLO", {"rsv2": True, "rsv3": True})]}),
    ("extensions.frames-extension-fails", "x-fragile raises RuntimeError decoding a frame",
     {"answers": ["x-fragile"], "frames": [(OP_TEXT, b"hELLO", {"rsv2": True})]}),
    ("extensions.frames-with-deflate", "a frame compressed after x-swapcase encoded it",
     {"answers": ["x-swapcase, permessage-deflate"],
      "frames": [(OP_TEXT, deflated(b"hELLO"), {"rsv1": True, "rsv2": True}), CLOSE]}),
    ("extensions.frames-deflate-continuation-rsv1",
     "RSV1 on a continuation of a compressed message, with x-swapcase",
     {"answers": ["x-swapcase, permessage-deflate"],
      "frames": [(OP_TEXT, deflated(b"a")[:1], {"rsv1": True, "fin": False}),
                 (OP_CONT, deflated(b"a")[1:], {"rsv1": True})]}),
    ("extensions.frames-deflate-alone-continuation-rsv1",
     "RSV1 on a continuation of a compressed message, with permessage-deflate alone",
     {"answers": ["permessage-deflate"],
      "frames": [(OP_TEXT, deflated(b"a")[:1], {"rsv1": True, "fin": False}),
                 (OP_CONT, deflated(b"a")[1:], {"rsv1": True})]}),
    ("extensions.frames-fragment-too-big", "a continuation over what is left of max_size",
     {"frames": [(OP_TEXT, b"x" * 6, {"rsv2": True, "fin": False}), (OP_CONT, b"x" * 6, {})],
      "max_size": 10}),
    ("extensions.frames-ping-over-budget", "a ping inside a message, over what is left",
     {"frames": [(OP_TEXT, b"x" * 6, {"rsv2": True, "fin": False}), (OP_PING, b"p" * 5, {})],
      "max_size": 10}),
]
TO_CLIENT = [(f"{case_id}.to-client", f"{title} (to the client)", kwargs)
             for case_id, title, kwargs in FRAME_CASES]
TO_SERVER = [(f"{case_id}.to-server", f"{title} (to the server)", kwargs)
             for case_id, title, kwargs in FRAME_CASES]


def _names(answers: list[str]) -> list[str]:
    return [item.strip().split(";")[0] for value in answers for item in value.split(",")]


@family("extensions", TO_CLIENT, seed="extensions", sides="client")
async def raw_server_sends(
    pair: Pair, frames: list[Any], answers: list[str] | None = None, max_size: int = 2**20
) -> Any:
    """A raw server accepts extensions and sends frames; the client reads them and replies."""
    answers = answers or ["x-swapcase"]
    log: Log = []
    factories = [client_factory(pair, name, log) for name in _names(answers)
                 if name != "permessage-deflate"]
    seen: list[Any] = []

    async def script(conn: RawConnection) -> None:
        seen.extend(await read_then_play(conn, frames))

    async with pair.serve_raw(script, answering(*answers)) as server, pair.connect(
        server.url, extensions=factories, max_size=max_size
    ) as ws:
        await ws.send("Hello")
        outcomes = await drain(pair, ws)
        state = closed(ws)
    return {"recv": outcomes, "closed": state, "peer_read": seen, "log": log,
            "logged": pair.logged_errors()}


async def read_then_play(conn: RawConnection, frames: list[Any]) -> list[Any]:
    """Read the target's first frame, then send ``frames`` and finish the close handshake."""
    first = await conn.read_frame()
    return [None if first is None else first.trace(), *await play(conn, frames, abort=False)]


@family("extensions", TO_SERVER, seed="extensions", sides="server")
async def raw_client_sends(
    pair: Pair, frames: list[Any], answers: list[str] | None = None, max_size: int = 2**20
) -> Any:
    """A raw client offers extensions and sends frames; the server reads them and replies."""
    answers = answers or ["x-swapcase"]
    log: Log = []
    factories = [server_factory(pair, name, log) for name in _names(answers)
                 if name != "permessage-deflate"]
    record: dict[str, Any] = {}

    async def handler(ws: Any) -> None:
        await ws.send("Hello")
        record["recv"] = await drain(pair, ws)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(pair.timeout):
                await ws.wait_closed()
        record["closed"] = closed(ws)

    recorder = Recorder(handler)
    offer = [("Sec-WebSocket-Extensions", ", ".join(answers))]
    async with (
        pair.serve(recorder, extensions=factories, max_size=max_size) as url,
        pair.connect_raw(url, headers=offer) as conn,
    ):
        accepted = conn.header("Sec-WebSocket-Extensions")
        seen = await read_then_play(conn, frames)
        await recorder.wait(pair)
    return {**record, "accepted": accepted, "peer_read": seen, "log": log,
            "logged": pair.logged_errors()}


SERVER_OFFER_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("extensions.server-unknown-offer", "an unknown extension is declined, the next accepted",
     {"offers": ["x-unknown; a=1, x-swapcase; level=1"]}),
    ("extensions.server-duplicate-offer", "x-swapcase offered twice",
     {"offers": ["x-swapcase, x-swapcase; level=2"]}),
    ("extensions.server-offer-order", "three extensions, answered in the offer's order",
     {"offers": ["x-tag, x-swapcase, permessage-deflate"]}),
    ("extensions.server-two-headers", "offers in two headers",
     {"offers": ["x-swapcase", "x-tag; level=1"]}),
    ("extensions.server-invalid-header", "an offer that doesn't parse",
     {"offers": ["x-swapcase;"]}),
    ("extensions.server-empty-header", "an empty Sec-WebSocket-Extensions header",
     {"offers": [""]}),
    ("extensions.server-required-parameter", "x-tag requires a parameter the offer lacks",
     {"offers": ["x-tag, x-swapcase"], "require": "level"}),
]


@family("extensions", SERVER_OFFER_CASES, seed="extensions", sides="server")
async def server_answers(pair: Pair, offers: list[str], require: str | None = None) -> Any:
    """A raw client offers extensions to a server with x-swapcase, x-tag and deflate."""
    log: Log = []
    factories = [
        server_factory(pair, "x-swapcase", log),
        server_factory(pair, "x-tag", log, Options(require=require)),
    ]
    headers = [("Sec-WebSocket-Extensions", value) for value in offers]
    async with (
        pair.serve(hold, extensions=factories) as url,
        pair.connect_raw(url, headers=headers) as conn,
    ):
        result = {**conn.handshake_trace(), "accepted": conn.header("Sec-WebSocket-Extensions")}
        if conn.status == 101:
            await conn.send_close(1000)
            frames, _ = await conn.read_until_eof()
            result["peer_read"] = [frame.trace() for frame in frames]
    return {**result, "log": log}
