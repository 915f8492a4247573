"""Raw peers: a WebSocket frame codec and scripted TCP client and server for exact bytes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import os
import struct
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable
from ssl import SSLContext
from typing import Any

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONT",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "Frame",
    "FrameReader",
    "RawClient",
    "RawConnection",
    "RawServer",
    "Request",
    "accept_key",
    "close_payload",
    "encode_frame",
    "http_response",
]

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CLIENT_MASK = b"\x37\xfa\x21\x3d"
MAX_HEAD = 65536


def accept_key(key: str) -> str:
    """The Sec-WebSocket-Accept value answering ``key``."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def close_payload(code: int | None = None, reason: str | bytes = b"") -> bytes:
    """Payload of a close frame; no code gives an empty payload."""
    if code is None:
        return b""
    raw = reason.encode() if isinstance(reason, str) else reason
    return struct.pack("!H", code) + raw


def _apply_mask(payload: bytes, mask: bytes) -> bytes:
    return bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


def encode_frame(
    opcode: int,
    payload: bytes = b"",
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    rsv3: bool = False,
    mask: bytes | None = None,
    length_override: int | None = None,
) -> bytes:
    """Encode one frame exactly as asked, including invalid ones."""
    head = (fin << 7) | (rsv1 << 6) | (rsv2 << 5) | (rsv3 << 4) | (opcode & 0x0F)
    length = len(payload) if length_override is None else length_override
    mask_bit = 0x80 if mask is not None else 0
    if length < 126:
        header = struct.pack("!BB", head, mask_bit | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", head, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", head, mask_bit | 127, length)
    if mask is not None:
        return header + mask + _apply_mask(payload, mask)
    return header + payload


@dataclasses.dataclass
class Frame:
    """A parsed frame, payload unmasked."""

    opcode: int
    payload: bytes
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False
    masked: bool = False

    def close(self) -> tuple[int | None, bytes]:
        """Code and raw reason of a close frame (None and b"" when empty)."""
        if len(self.payload) < 2:
            return None, self.payload
        return struct.unpack("!H", self.payload[:2])[0], self.payload[2:]

    def trace(self) -> dict[str, Any]:
        """Plain data describing the frame."""
        result: dict[str, Any] = {"opcode": self.opcode, "fin": self.fin, "masked": self.masked}
        if self.rsv1 or self.rsv2 or self.rsv3:
            result["rsv"] = [self.rsv1, self.rsv2, self.rsv3]
        if self.opcode == OP_CLOSE:
            code, reason = self.close()
            result["code"] = code
            result["reason"] = reason.decode(errors="replace")
        else:
            result["payload"] = repr(self.payload)
        return result


class FrameReader:
    """Incremental frame parser: feed bytes, pop complete frames."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, chunk: bytes) -> list[Frame]:
        """Add ``chunk`` and return every frame now complete."""
        self.buffer += chunk
        frames = []
        while (frame := self._parse()) is not None:
            frames.append(frame)
        return frames

    def _parse(self) -> Frame | None:
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        offset, length = 2, second & 0x7F
        if length == 126:
            if len(buffer) < 4:
                return None
            length, offset = struct.unpack("!H", buffer[2:4])[0], 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            length, offset = struct.unpack("!Q", buffer[2:10])[0], 10
        masked = bool(second & 0x80)
        mask = bytes(buffer[offset : offset + 4]) if masked else None
        offset += 4 if masked else 0
        if len(buffer) < offset + length:
            return None
        payload = bytes(buffer[offset : offset + length])
        del buffer[: offset + length]
        if mask is not None:
            payload = _apply_mask(payload, mask)
        return Frame(
            opcode=first & 0x0F,
            payload=payload,
            fin=bool(first & 0x80),
            rsv1=bool(first & 0x40),
            rsv2=bool(first & 0x20),
            rsv3=bool(first & 0x10),
            masked=masked,
        )


@dataclasses.dataclass
class Request:
    """An HTTP request line and headers as a raw server saw them."""

    method: str
    path: str
    headers: dict[str, str]

    def header(self, name: str) -> str | None:
        """Header value, case-insensitive."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            key = name.strip()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return lines[0], headers


def http_response(
    status: int = 101,
    reason: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    body: bytes = b"",
) -> bytes:
    """Serialise an HTTP/1.1 response."""
    reasons = {101: "Switching Protocols", 200: "OK", 403: "Forbidden", 404: "Not Found"}
    phrase = reasons.get(status, "Internal Server Error") if reason is None else reason
    lines = [f"HTTP/1.1 {status} {phrase}", *(f"{name}: {value}" for name, value in headers)]
    if status != 101:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class RawConnection:
    """Byte-level access to one TCP connection, recording the frames it reads."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        mask: bytes | None,
        timeout: float,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.mask = mask
        self.timeout = timeout
        self.frames = FrameReader()
        self.pending: list[Frame] = []
        self.seen: list[Frame] = []

    async def send(self, raw: bytes) -> None:
        """Write raw bytes; a peer that went away is not an error here."""
        with contextlib.suppress(ConnectionError):
            self.writer.write(raw)
            await self.writer.drain()

    async def send_frame(self, opcode: int, payload: bytes = b"", **kwargs: Any) -> None:
        """Encode and send one frame; masked by default on the client side."""
        kwargs.setdefault("mask", self.mask)
        await self.send(encode_frame(opcode, payload, **kwargs))

    async def send_close(self, code: int | None = 1000, reason: str | bytes = b"") -> None:
        """Send a close frame."""
        await self.send_frame(OP_CLOSE, close_payload(code, reason))

    async def read_frame(self, timeout: float | None = None) -> Frame | None:
        """Next frame, None at EOF; raise TimeoutError after ``timeout``."""
        async with asyncio.timeout(self.timeout if timeout is None else timeout):
            while not self.pending:
                try:
                    chunk = await self.reader.read(65536)
                except ConnectionError:
                    chunk = b""
                if not chunk:
                    return None
                self.pending.extend(self.frames.feed(chunk))
        frame = self.pending.pop(0)
        self.seen.append(frame)
        return frame

    async def read_until_eof(self, timeout: float | None = None) -> tuple[list[Frame], bool]:
        """Every frame until EOF or ``timeout``; and whether EOF came."""
        frames: list[Frame] = []
        try:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                while (frame := await self.read_frame(timeout=float("inf"))) is not None:
                    frames.append(frame)
        except TimeoutError:
            return frames, False
        return frames, True

    async def close_handshake(
        self, timeout: float | None = None, reply: bool = True
    ) -> tuple[list[Frame], bool]:
        """Read frames until a close frame, answer it (if ``reply``) and close TCP.

        Return the frames and whether a close frame came (False on EOF or timeout).
        """
        frames: list[Frame] = []
        try:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                while (frame := await self.read_frame(timeout=float("inf"))) is not None:
                    frames.append(frame)
                    if frame.opcode == OP_CLOSE:
                        if reply:
                            await self.send_frame(OP_CLOSE, frame.payload[:2])
                        await self.aclose()
                        return frames, True
        except TimeoutError:
            pass
        return frames, False

    def close(self) -> None:
        """Close the TCP connection."""
        self.writer.close()

    async def aclose(self) -> None:
        """Close the TCP connection and wait, bounded, until it is closed."""
        self.writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.timeout):
                await self.writer.wait_closed()

    def trace(self) -> list[dict[str, Any]]:
        """Every frame read so far, as plain data."""
        return [frame.trace() for frame in self.seen]


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        return exc.partial
    except asyncio.LimitOverrunError:
        return await reader.read(MAX_HEAD)


class RawClient(RawConnection):
    """A TCP client speaking raw bytes after an optional upgrade request."""

    status: int | None
    headers: dict[str, str]
    body: bytes
    key: str

    @classmethod
    async def connect(
        cls,
        url: str,
        headers: Iterable[tuple[str, str]] = (),
        request: bytes | None = None,
        timeout: float = 1.0,
        handshake: bool = True,
    ) -> RawClient:
        """Connect to ``url``, send the upgrade request and read the response.

        ``request`` replaces the generated request; ``handshake=False`` sends nothing.
        """
        parsed = urllib.parse.urlsplit(url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
        self = cls(reader, writer, CLIENT_MASK, timeout)
        self.status, self.headers, self.body = None, {}, b""
        self.key = base64.b64encode(os.urandom(16)).decode()
        if not handshake:
            return self
        if request is None:
            lines = [
                f"GET {parsed.path or '/'} HTTP/1.1",
                f"Host: {host}:{port}",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Key: {self.key}",
                "Sec-WebSocket-Version: 13",
                *(f"{name}: {value}" for name, value in headers),
            ]
            request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        await self.send(request)
        await self.read_response()
        return self

    async def read_response(self) -> None:
        """Read the HTTP response: status, headers and a Content-Length body."""
        async with asyncio.timeout(self.timeout):
            head = await _read_head(self.reader)
            if not head:
                return
            status_line, self.headers = _parse_head(head)
            parts = status_line.split(" ", 2)
            self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            length = self.header("Content-Length")
            if self.status != 101 and length is not None and length.isdigit():
                with contextlib.suppress(asyncio.IncompleteReadError):
                    self.body = await self.reader.readexactly(int(length))

    def header(self, name: str) -> str | None:
        """Response header value, case-insensitive."""
        return Request("", "", self.headers).header(name)

    def handshake_trace(self, key: str | None = None) -> dict[str, Any]:
        """Status, whether the accept key answers ``key`` (default: ours), and the body."""
        return {
            "status": self.status,
            "accept_ok": self.header("Sec-WebSocket-Accept") == accept_key(key or self.key),
            "body": repr(self.body),
        }


Script = Callable[[RawConnection], Awaitable[None]]
Respond = Callable[[Request], bytes | None]


def default_response(request: Request, headers: Iterable[tuple[str, str]] = ()) -> bytes:
    """A valid 101 response to ``request`` with extra ``headers``."""
    key = request.header("Sec-WebSocket-Key") or ""
    base = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", accept_key(key)),
    ]
    return http_response(101, headers=[*base, *headers])


class RawServer:
    """A TCP server that answers upgrades as scripted, then runs a script per connection.

    ``respond`` builds the response bytes from the request; returning None means
    never answering. ``script`` runs after the response; the connection is closed
    when it returns. With ``ssl``, it speaks TLS and its ``url`` is a wss:// URL.
    """

    def __init__(
        self,
        script: Script | None = None,
        respond: Respond = default_response,
        timeout: float = 1.0,
        ssl: SSLContext | None = None,
    ) -> None:
        self.script = script
        self.respond = respond
        self.timeout = timeout
        self.ssl = ssl
        self.requests: list[Request] = []
        self.connections: list[RawConnection] = []
        self.errors: list[str] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.server: asyncio.Server | None = None
        self.url = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tasks.add(task := asyncio.current_task())  # type: ignore[arg-type]
        connection = RawConnection(reader, writer, None, self.timeout)
        self.connections.append(connection)
        try:
            head = await _read_head(reader)
            if not head:
                return
            request_line, headers = _parse_head(head)
            method, _, rest = request_line.partition(" ")
            request = Request(method, rest.rpartition(" ")[0], headers)
            self.requests.append(request)
            response = self.respond(request)
            if response is None:
                await asyncio.sleep(self.timeout * 10)
                return
            await connection.send(response)
            if self.script is not None:
                await self.script(connection)
        except Exception as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            await connection.aclose()
            self.tasks.discard(task)

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.ssl)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"{'ws' if self.ssl is None else 'wss'}://127.0.0.1:{port}/"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        # Let scripts finish (they are bounded), then cancel stragglers.
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=self.timeout)
        for task in list(self.tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.timeout):
                await asyncio.gather(*self.tasks, return_exceptions=True)
                await self.server.wait_closed()

