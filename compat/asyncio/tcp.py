"""Plain TCP connections for clients, resolving names and trying each address like asyncio."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

__all__ = ["connect_tcp"]


AddressInfo = tuple[int, int, int, str, tuple[Any, ...]]


def numeric_address(host: str, port: int, family: int) -> list[AddressInfo] | None:
    """The address of a numeric IPv4 or IPv6 host, without a resolver thread, as asyncio does."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    af = socket.AF_INET if address.version == 4 else socket.AF_INET6
    if family not in (0, af):
        return None
    sockaddr: tuple[Any, ...] = (host, port) if af == socket.AF_INET else (host, port, 0, 0)
    return [(af, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)]


async def connect_tcp(
    host: str,
    port: int,
    *,
    family: int = 0,
    proto: int = 0,
    flags: int = 0,
    local_addr: tuple[str, int] | None = None,
) -> socket.socket:
    """Connect a non-blocking TCP socket, trying each resolved address like asyncio does."""
    loop = asyncio.get_running_loop()
    infos = numeric_address(host, port, family)
    if infos is None:
        infos = [
            (int(af), int(kind), sproto, name, tuple(address))
            for af, kind, sproto, name, address in await loop.getaddrinfo(
                host, port, family=family, type=socket.SOCK_STREAM, proto=proto, flags=flags
            )
        ]
    if not infos:
        raise OSError("getaddrinfo() returned empty list")
    errors: list[OSError] = []
    for af, socktype, sproto, _, address in infos:
        sock = socket.socket(af, socktype, sproto)
        try:
            sock.setblocking(False)
            if local_addr is not None:
                sock.bind(local_addr)
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
