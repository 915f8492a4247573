"""Plain TCP connections for clients, resolving names and trying each address like asyncio."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

__all__ = ["connect_tcp"]


AddressInfo = tuple[int, int, int, str, tuple[Any, ...]]


def numeric_address(
    host: str | None, port: int | None, family: int, proto: int
) -> list[AddressInfo] | None:
    """
    The address of a numeric IPv4 or IPv6 host, without a resolver thread, as asyncio does:
    unless ``proto`` is another protocol than TCP or UDP, which only the resolver knows.
    """
    if host is None or proto not in (0, socket.IPPROTO_TCP, socket.IPPROTO_UDP):
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    af = socket.AF_INET if address.version == 4 else socket.AF_INET6
    if family not in (0, af):
        return None
    sockaddr: tuple[Any, ...] = (host, port) if af == socket.AF_INET else (host, port, 0, 0)
    return [(af, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]


async def resolve(
    host: str | None, port: int | None, family: int, proto: int, flags: int
) -> list[AddressInfo]:
    """The addresses of ``host`` for a TCP connection, as asyncio resolves them."""
    infos = numeric_address(host, port, family, proto)
    if infos is None:
        infos = [
            (af, kind, sproto, name, tuple(address))
            for af, kind, sproto, name, address in await asyncio.get_running_loop().getaddrinfo(
                host, port, family=family, type=socket.SOCK_STREAM, proto=proto, flags=flags
            )
        ]
    if not infos:
        raise OSError("getaddrinfo() returned empty list")
    return infos


def bind(sock: socket.socket, family: int, local: list[AddressInfo], errors: list[OSError]) -> None:
    """
    Bind ``sock`` to the first of the ``local`` addresses of its ``family`` that it can take, as
    asyncio does: each failure is added to ``errors``, the last one raised.
    """
    failed = False
    for local_family, _, _, _, address in local:
        if local_family != family:
            continue
        try:
            sock.bind(address)
        except OSError as exc:
            strerror = (exc.strerror or "").lower()
            message = f"error while attempting to bind on address {address!r}: {strerror}"
            errors.append(OSError(exc.errno, message))
            failed = True
        else:
            return
    if failed:
        raise errors.pop()
    raise OSError(f"no matching local address with family={family!r} found")


async def connect_tcp(
    host: str | None,
    port: int | None,
    *,
    family: int = 0,
    proto: int = 0,
    flags: int = 0,
    local_addr: tuple[str, int] | None = None,
) -> socket.socket:
    """Connect a non-blocking TCP socket, trying each resolved address like asyncio does."""
    loop = asyncio.get_running_loop()
    infos = await resolve(host, port, family, proto, flags)
    local = None if local_addr is None else await resolve(*local_addr, family, proto, flags)
    errors: list[OSError] = []
    for af, socktype, sproto, _, address in infos:
        try:
            sock = socket.socket(af, socktype, sproto)
        except OSError as exc:  # a family this system has no sockets of, say
            errors.append(exc)
            continue
        try:
            sock.setblocking(False)
            if local is not None:
                bind(sock, af, local, errors)
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            errors.append(exc)
        except BaseException:
            sock.close()
            raise
        else:
            return sock
    if len(errors) == 1:
        raise errors[0]
    if len({str(exc) for exc in errors}) == 1:
        raise errors[0]
    raise OSError(f"Multiple exceptions: {', '.join(str(exc) for exc in errors)}")
