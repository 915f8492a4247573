"""Fault injection on raw TCP connections: resets, silence, slow bytes."""

from __future__ import annotations

import asyncio
import socket
import struct

from ..raw import OP_CLOSE, RawConnection

__all__ = ["reset", "silent_reader"]


def reset(connection: RawConnection) -> None:
    """Abort the TCP connection with a RST instead of a FIN."""
    sock = connection.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    connection.writer.transport.abort()


async def silent_reader(connection: RawConnection, seconds: float) -> float | None:
    """Read frames without answering pings; return when a close frame came (loop time)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(seconds):
            while (frame := await connection.read_frame(timeout=float("inf"))) is not None:
                if frame.opcode == OP_CLOSE:
                    return loop.time()
    except TimeoutError:
        pass
    return None
