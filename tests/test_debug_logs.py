"""What compat logs at DEBUG: the request picows writes, credentials redacted, nothing when off.

The client's request lines come from a message picows logs at its own lowest level as it writes
the request: these tests fail if a picows release stops showing the request that way.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import pytest

from compat.asyncio.client import connect
from compat.asyncio.server import basic_auth, serve

PASSWORD = "s3cret-Pa55word"


class Records(logging.Handler):
    """Collects records."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, name: str) -> list[str]:
        return [record.getMessage() for record in self.records if record.name == name]


@pytest.fixture
def records() -> Iterator[Records]:
    """Records of the ``websockets`` loggers, at DEBUG meanwhile."""
    logger = logging.getLogger("websockets")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def hold(ws: object) -> None:
    """A handler returning at once, closing the connection."""


async def test_client_logs_the_request_it_wrote(records: Records) -> None:
    """The request lines hold what picows wrote, key included, with the connection in extra."""
    async with serve(hold, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/path?q=1") as ws:
            assert ws.request is not None
            key = ws.request.headers["Sec-WebSocket-Key"]
    messages = records.messages("websockets.client")
    start = messages.index("> GET /path?q=1 HTTP/1.1")
    assert f"> Sec-WebSocket-Key: {key}" in messages[start:]
    assert messages.index("= connection is OPEN") > start
    requested = [
        record for record in records.records if record.getMessage().startswith("> GET ")
    ]
    assert [getattr(record, "websocket", None) for record in requested] == [ws]


async def test_credentials_are_redacted(records: Records) -> None:
    """Neither side logs the password or the Authorization value, even at DEBUG."""
    auth = basic_auth(credentials=("user", PASSWORD))
    async with serve(hold, "127.0.0.1", 0, process_request=auth) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://user:{PASSWORD}@127.0.0.1:{port}/"):
            pass
    assert "> Authorization: [redacted]" in records.messages("websockets.client")
    assert "< Authorization: [redacted]" in records.messages("websockets.server")
    token = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
    for record in records.records:
        assert PASSWORD not in record.getMessage() and token not in record.getMessage()


async def test_nothing_at_debug_when_off() -> None:
    """A logger that doesn't show DEBUG gets no DEBUG record; connections know it."""
    logger = logging.getLogger("test_debug_logs.off")
    handler = Records()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        async with serve(hold, "127.0.0.1", 0, logger=logger) as server:
            port = server.sockets[0].getsockname()[1]
            async with connect(f"ws://127.0.0.1:{port}/", logger=logger) as ws:
                assert not ws.debug
    finally:
        logger.removeHandler(handler)
    assert handler.records
    assert all(record.levelno >= logging.INFO for record in handler.records)
