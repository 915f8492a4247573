"""The client's TCP connection: local_addr, family, proto, flags, sock, host and port.

connect() hands these keyword arguments to the event loop's create_connection() in websockets:
binding to a local address, the family, protocol and flags of the resolution, an already
connected socket, or a host and port overriding the URI's; and a server name with several
addresses, each tried in turn. Every connection stays on 127.0.0.1 (or ::1); the addresses that
can't be bound fail locally, before any packet is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import ipaddress
import os
import re
import socket
import ssl
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import trace
from ..scenario import Pair, family, scenario
from ._shapes import Recorder, echo
from .proxy_options import proxy_environment
from .tls import server_context, trusting_context

# A documentation address (RFC 5737), not assigned to any interface here: binding to it fails
# with EADDRNOTAVAIL, without any packet sent.
NON_LOCAL = "192.0.2.1"


def failure(exc: Exception, local_addr: Any = None) -> dict[str, Any]:
    """An exception as trace data with its errno; a port that varies in it replaced."""
    result: dict[str, Any] = trace.exception(exc)
    result["errno"] = getattr(exc, "errno", None)
    result["cause"] = None if exc.__cause__ is None else trace.exception(exc.__cause__)
    if local_addr is not None:
        result["str"] = result["str"].replace(repr(local_addr), "LOCAL_ADDR")
    return result


def free_port() -> int:
    """A port of 127.0.0.1 that no socket holds now (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def listening() -> Iterator[socket.socket]:
    """A TCP socket listening on 127.0.0.1: its address is in use."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy


async def exchange(
    pair: Pair, uri: str, recorder: Recorder, local_addr: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """Connect to ``uri`` and echo one message: what each side sees of the TCP connection.

    ``local_addr`` ``("127.0.0.1", port)`` with a port, checks that the client's local port
    is that one. The server handler (``recorder``) reports its remote address.
    """
    if local_addr is not None:
        kwargs["local_addr"] = local_addr
    try:
        async with pair.connect(uri, **kwargs) as ws:
            await ws.send("hello")
            echoed = await pair.catch(ws.recv())
            local = ws.local_address
            client: dict[str, Any] = {
                "echoed": echoed,
                "local_host": local[0],
                "state": trace.state(ws),
            }
            if local_addr is not None and local_addr[1]:
                client["local_port_asked"] = local[1] == local_addr[1]
    except Exception as exc:
        return {"client": failure(exc, local_addr), "server": recorder.result}
    server = await recorder.wait(pair)
    if isinstance(server, dict) and "result" in server:
        remote = server["result"]
        server = {"remote_host": remote[0], "remote_port_is_local_port": remote[1] == local[1]}
    return {"client": client, "server": server}


async def remote_address(ws: Any) -> Any:
    """Echo, then return the remote address the server sees."""
    address = ws.remote_address
    await echo(ws)
    return list(address)


LOCAL_ADDR_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("transport.local-addr-any-port", "local_addr=('127.0.0.1', 0) binds the client's socket",
     {"local": "any-port"}),
    ("transport.local-addr-fixed-port", "local_addr with a free port: the server sees that port",
     {"local": "fixed-port"}),
    ("transport.local-addr-localhost", "local_addr=('localhost', 0), resolved like the server's",
     {"local": "localhost"}),
    ("transport.local-addr-with-family", "local_addr with family=AF_INET",
     {"local": "any-port", "kwargs": {"family": socket.AF_INET}}),
    ("transport.local-addr-host-port-kwargs", "local_addr with host and port keyword arguments",
     {"local": "any-port", "override": True}),
]


@family("connect", LOCAL_ADDR_CASES)
async def local_addr_binds(
    pair: Pair, local: str, kwargs: dict[str, Any] | None = None, override: bool = False
) -> Any:
    """The client binds its TCP socket to local_addr: addresses each side sees, an echo."""
    local_addr: Any = {
        "any-port": ("127.0.0.1", 0),
        "fixed-port": ("127.0.0.1", free_port()),
        "localhost": ("localhost", 0),
    }[local]
    options = dict(kwargs or {})
    recorder = Recorder(remote_address)
    async with pair.serving(recorder) as server:
        uri = pair.url(server)
        if override:
            port = next(iter(server.sockets)).getsockname()[1]
            uri = "ws://invalid.invalid:1/"
            options.update(host="127.0.0.1", port=port)
        return await exchange(pair, uri, recorder, local_addr, **options)


LOCAL_ADDR_FAILURES: list[tuple[str, str, dict[str, Any]]] = [
    ("transport.local-addr-in-use", "local_addr held by a listening socket: address in use",
     {"local": "in-use"}),
    ("transport.local-addr-non-local", f"local_addr=({NON_LOCAL!r}, 0), no interface has it",
     {"local": "non-local"}),
    ("transport.local-addr-other-family", "local_addr=('::1', 0) for an IPv4 server",
     {"local": "other-family"}),
]


@family("connect", LOCAL_ADDR_FAILURES)
async def local_addr_fails(pair: Pair, local: str) -> Any:
    """A local_addr that can't be bound: connect() raises asyncio's error; nothing connects."""
    recorder = Recorder(remote_address)
    with listening() as busy:
        local_addr: Any = {
            "in-use": busy.getsockname(),
            "non-local": (NON_LOCAL, 0),
            "other-family": ("::1", 0),
        }[local]
        async with pair.serving(recorder) as server:
            result = await exchange(pair, pair.url(server), recorder, local_addr)
            if "exception" in result["client"]:
                result["connections"] = len(server.connections)
    return result


RESOLUTION_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("transport.family-inet", "family=AF_INET with an IPv4 address",
     {"kwargs": {"family": socket.AF_INET}}),
    ("transport.family-inet6-for-ipv4", "family=AF_INET6 with an IPv4 address: the resolver fails",
     {"kwargs": {"family": socket.AF_INET6}}),
    ("transport.proto-tcp", "proto=IPPROTO_TCP", {"kwargs": {"proto": socket.IPPROTO_TCP}}),
    ("transport.proto-sctp", "proto=IPPROTO_SCTP: a socket of another protocol",
     {"kwargs": {"proto": socket.IPPROTO_SCTP}}),
    ("transport.flags-numeric-host", "flags=AI_NUMERICHOST with an IPv4 address",
     {"kwargs": {"flags": socket.AI_NUMERICHOST}}),
    ("transport.flags-numeric-host-name", "flags=AI_NUMERICHOST with the name localhost",
     {"kwargs": {"flags": socket.AI_NUMERICHOST}, "host": "localhost"}),
    ("transport.happy-eyeballs", "happy_eyeballs_delay and interleave",
     {"kwargs": {"happy_eyeballs_delay": 0.25, "interleave": 1}}),
]


@family("connect", RESOLUTION_CASES)
async def resolution_options(pair: Pair, kwargs: dict[str, Any], host: str = "127.0.0.1") -> Any:
    """family, proto and flags of the resolution: the connection made, or the error."""
    recorder = Recorder(remote_address)
    async with pair.serving(recorder) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        result = await exchange(pair, f"ws://{host}:{port}/", recorder, **kwargs)
        if "exception" in result["client"]:
            # Nothing connected; once a connection is made, when the server forgets it varies.
            result["connections"] = len(server.connections)
    return result


# A server name with several addresses. This system's resolver has none (and never answers with
# none): the running loop's resolver is given some for a name of the reserved .test domain.

SEVERAL = "several.test"


@contextmanager
def resolving(names: dict[str, list[str]]) -> Iterator[None]:
    """Meanwhile, the running event loop's resolver gives each name of ``names`` the loopback
    addresses listed, in that order (an empty list: no address); other names resolve as before.
    Connections still go to those addresses over real sockets. The proxy settings of the
    environment are set aside meanwhile too: they would send the name to a proxy."""
    for addresses in names.values():
        for address in addresses:
            if not ipaddress.ip_address(address).is_loopback:
                raise ValueError(f"not a loopback address: {address}")
    loop = asyncio.get_running_loop()
    attributes = vars(loop)
    own = attributes.get("getaddrinfo")
    getaddrinfo = loop.getaddrinfo

    async def resolve(host: Any, port: Any, **kwargs: Any) -> list[Any]:
        if host not in names:
            return await getaddrinfo(host, port, **kwargs)
        return [
            info for address in names[host] for info in await getaddrinfo(address, port, **kwargs)
        ]

    attributes["getaddrinfo"] = resolve
    try:
        with proxy_environment({}):
            yield
    finally:
        if own is None:
            del attributes["getaddrinfo"]
        else:
            attributes["getaddrinfo"] = own


SEVERAL_FAILURES: list[tuple[str, str, dict[str, Any]]] = [
    ("transport.several-addresses-none", "a server name without any address",
     {"addresses": []}),
    ("transport.several-addresses-same-twice",
     "a server name with the same address twice, refusing: one error, as they read the same",
     {"addresses": ["127.0.0.1", "127.0.0.1"]}),
    ("transport.several-addresses-two-families",
     "a server name with an IPv6 then an IPv4 address, both refusing: both errors",
     {"addresses": ["::1", "127.0.0.1"]}),
]


@family("connect", SEVERAL_FAILURES, sides="client")
async def several_addresses_fail(pair: Pair, addresses: list[str]) -> Any:
    """Every address of the server's name is tried in turn; when all fail, the errors are
    reported together, or once if they read the same, as asyncio reports them (the port that
    nothing listens on written ``PORT``). Without IPv6 on the loopback interface, ::1 fails
    otherwise, for the reference too: it runs on the same machine."""
    port = free_port()
    with resolving({SEVERAL: addresses}):
        try:
            async with pair.connect(f"ws://{SEVERAL}:{port}/"):
                return {"connected": True}
        except Exception as exc:
            outcome = failure(exc)
    outcome["str"] = re.sub(rf"\b{port}\b", "PORT", outcome["str"])
    return outcome


@scenario("connect")
async def later_address_used(pair: Pair) -> Any:
    """The first address of the server's name (::1) refuses the connection: the next one
    (127.0.0.1, where the server listens) gets it."""
    recorder = Recorder(remote_address)
    async with pair.serving(recorder) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        with resolving({SEVERAL: ["::1", "127.0.0.1"]}):
            return await exchange(pair, f"ws://{SEVERAL}:{port}/", recorder)


@contextmanager
def without_ipv6_sockets() -> Iterator[None]:
    """Meanwhile, creating an IPv6 socket fails as on a system without IPv6 (EAFNOSUPPORT);
    sockets of other families, and those made of an accepted connection, are created as before."""
    created = socket.socket

    class Socket(created):  # type: ignore[misc,valid-type]
        def __init__(self, family: Any = -1, *args: Any, **kwargs: Any) -> None:
            if family == socket.AF_INET6 and kwargs.get("fileno") is None and len(args) < 3:
                raise OSError(errno.EAFNOSUPPORT, os.strerror(errno.EAFNOSUPPORT))
            super().__init__(family, *args, **kwargs)

    socket.socket = Socket  # type: ignore[misc]
    try:
        yield
    finally:
        socket.socket = created  # type: ignore[misc]


@scenario("connect")
async def later_address_without_ipv6(pair: Pair) -> Any:
    """The first address of the server's name (::1) can't even get a socket, as on a system
    without IPv6: the next one (127.0.0.1, where the server listens) gets the connection."""
    recorder = Recorder(remote_address)
    async with pair.serving(recorder) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        with resolving({SEVERAL: ["::1", "127.0.0.1"]}), without_ipv6_sockets():
            return await exchange(pair, f"ws://{SEVERAL}:{port}/", recorder)


SOCK_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("transport.sock-none", "sock=None connects to the URI's host and port",
     {"sock": False, "kwargs": {"sock": None}}),
    ("transport.sock-with-local-addr", "sock= with local_addr: the socket is used as it is",
     {"sock": True, "kwargs": {"local_addr": ("127.0.0.1", 0)}}),
    ("transport.sock-with-host", "sock= with host=: create_connection refuses both",
     {"sock": True, "kwargs": {"host": "127.0.0.1"}}),
    ("transport.sock-with-port", "sock= with port=: create_connection refuses both",
     {"sock": True, "kwargs": {"port": "PORT"}}),
    ("transport.port-only", "port= overrides the URI's port, the host stays",
     {"sock": False, "kwargs": {"port": "PORT"}, "uri_port": 1}),
    ("transport.host-only", "host= overrides the URI's host, the port stays",
     {"sock": False, "kwargs": {"host": "127.0.0.1"}, "uri_host": "invalid.invalid"}),
    ("transport.port-zero", "port=0 overrides the URI's port: nothing listens there",
     {"sock": False, "kwargs": {"port": 0}}),
    ("transport.host-port-none", "host=None and port=None given: no address, no socket",
     {"sock": False, "kwargs": {"host": None, "port": None}}),
    ("transport.unknown-keyword", "a keyword argument that create_connection doesn't take",
     {"sock": False, "kwargs": {"local_address": ("127.0.0.1", 0)}}),
]


@family("connect", SOCK_CASES)
async def sock_host_port(
    pair: Pair,
    sock: bool,
    kwargs: dict[str, Any],
    uri_host: str = "127.0.0.1",
    uri_port: int | None = None,
) -> Any:
    """sock, host and port keyword arguments: the connection made, or the error."""
    recorder = Recorder(remote_address)
    async with pair.serving(recorder) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        options = {key: port if value == "PORT" else value for key, value in kwargs.items()}
        uri = f"ws://{uri_host}:{port if uri_port is None else uri_port}/"
        connected: socket.socket | None = None
        if sock:
            connected = socket.create_connection(("127.0.0.1", port), timeout=pair.timeout)
            connected.setblocking(False)
            options["sock"] = connected
        try:
            result = await exchange(pair, uri, recorder, **options)
        finally:
            if connected is not None:
                connected.close()
    return result


@scenario("connect", sides="client")
async def datagram_sock(pair: Pair) -> Any:
    """sock= with a UDP socket: create_connection wants a stream socket (its repr, which holds
    its descriptor, written ``SOCKET``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as given:
        given.setblocking(False)
        try:
            async with pair.connect("ws://127.0.0.1:1/", sock=given):
                return {"connected": True}
        except Exception as exc:
            outcome = failure(exc)
            outcome["str"] = outcome["str"].replace(repr(given), "SOCKET")
            return outcome


TLS_KEYWORDS_WITHOUT_TLS: list[tuple[str, str, dict[str, Any]]] = [
    ("transport.ws-server-hostname", "server_hostname with a ws:// URI",
     {"kwargs": {"server_hostname": "localhost"}}),
    ("transport.ws-ssl-handshake-timeout", "ssl_handshake_timeout with a ws:// URI",
     {"kwargs": {"ssl_handshake_timeout": 1.0}}),
    ("transport.ws-ssl-shutdown-timeout", "ssl_shutdown_timeout with a ws:// URI",
     {"kwargs": {"ssl_shutdown_timeout": 1.0}}),
    ("transport.ws-tls-keywords", "the three TLS keywords with a ws:// URI: the first is named",
     {"kwargs": {"ssl_shutdown_timeout": 1.0, "ssl_handshake_timeout": 1.0,
                 "server_hostname": "localhost"}}),
    ("transport.wss-ssl-false", "ssl=False with a wss:// URI, where server_hostname is implied",
     {"kwargs": {"ssl": False}, "scheme": "wss"}),
]


@family("connect", TLS_KEYWORDS_WITHOUT_TLS, sides="client")
async def tls_keywords_without_tls(pair: Pair, kwargs: dict[str, Any], scheme: str = "ws") -> Any:
    """The event loop refuses TLS keywords without TLS before connecting: the outcome, and how
    many connections the server's address saw meanwhile (none)."""
    accepted = 0

    def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        try:
            async with pair.connect(f"{scheme}://127.0.0.1:{port}/", **kwargs):
                outcome: dict[str, Any] = {"connected": True}
        except Exception as exc:
            outcome = failure(exc)
        await asyncio.sleep(0.1)  # for a connection under way to be accepted
    return {"outcome": outcome, "connections": accepted}


CANCELLED_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("transport.cancelled-during-handshake", "connect() cancelled while waiting for the response",
     {"secure": False}),
    ("transport.cancelled-during-handshake-tls",
     "connect() to a wss:// server cancelled while waiting for the response", {"secure": True}),
]


@family("connect", CANCELLED_CASES, sides="client")
async def cancelled_during_handshake(pair: Pair, secure: bool) -> Any:
    """A server that reads the request and never answers; connect() is cancelled meanwhile: it
    raises what the cancellation raises, the server sees the connection end, and nothing of it
    is left for the garbage collector to close."""
    ended = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await reader.read()
        ended.set()
        writer.close()

    server = await asyncio.start_server(
        silent, "127.0.0.1", 0, ssl=server_context() if secure else None
    )
    async with server:
        port = server.sockets[0].getsockname()[1]
        uri = f"{'wss' if secure else 'ws'}://127.0.0.1:{port}/"
        options = {"ssl": trusting_context()} if secure else {}
        try:
            async with asyncio.timeout(0.3), pair.connect(uri, open_timeout=None, **options):
                outcome: Any = {"result": "connected"}
        except Exception as exc:
            outcome = trace.exception(exc)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(pair.timeout):
                await ended.wait()
        seen = ended.is_set()
        for writer in writers:
            writer.transport.abort()
        await asyncio.sleep(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    unclosed = any(issubclass(warning.category, ResourceWarning) for warning in caught)
    return {"connect": outcome, "server_saw_the_end": seen, "left_unclosed": unclosed}


def open_fds() -> int:
    """File descriptors open in this process."""
    return len(os.listdir("/proc/self/fd"))


@scenario("connect", sides="client")
async def cancelled_while_connecting(pair: Pair) -> Any:
    """A server whose backlog is full never accepts: open_timeout cancels the TCP connection
    attempt, which closes its socket; nothing is left for the garbage collector."""
    with socket.socket() as listener, socket.socket() as queued:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        queued.connect(listener.getsockname())  # fills the backlog; the next SYN is dropped
        uri = f"ws://127.0.0.1:{listener.getsockname()[1]}/"
        before = open_fds()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                async with pair.connect(uri, open_timeout=0.3):
                    outcome: Any = {"result": "connected"}
            except Exception as exc:
                outcome = trace.exception(exc)
            gc.collect()
        return {
            "connect": outcome,
            "sockets_closed": open_fds() == before,
            "left_unclosed": any(issubclass(w.category, ResourceWarning) for w in caught),
        }
