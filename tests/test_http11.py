"""compat's request reader gives the same result whether a head arrives whole or byte by byte.

The server reads a complete head in one pass and a partial one line by line; the requests of the
handshake-bytes scenarios (valid, malformed, oversized) must come out the same either way.
"""

from __future__ import annotations

from typing import Any

import pytest

from compat.exceptions import SecurityError
from compat.http11 import RequestReader
from conformance.scenarios.handshake_bytes_server import CASES


def outcome(chunks: list[bytes], eof: bool) -> Any:
    """What the reader makes of ``chunks``: the request, an exception, or None (incomplete)."""
    reader = RequestReader()
    request = None
    try:
        for chunk in chunks:
            if request is None:
                request = reader.feed(chunk)
            else:
                reader.buffer += chunk  # bytes after the head wait for picows, as in the server
        if request is None and eof:
            request = reader.feed_eof()
    except SecurityError as exc:
        # The size in the message is what had arrived when the limit was crossed, as in
        # websockets: it depends on how the bytes were split.
        return type(exc).__name__
    except Exception as exc:
        return (type(exc).__name__, str(exc), type(exc.__cause__).__name__)
    if request is None:
        return None
    return (request.method, request.path, request.protocol, list(request.headers.raw_items()),
            bytes(reader.buffer))


@pytest.mark.parametrize(
    ("data", "eof"), [(case[2]["data"], case[2].get("eof", False)) for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_whole_and_byte_by_byte_agree(data: bytes, eof: bool) -> None:
    whole = outcome([data], eof)
    assert outcome([data[index : index + 1] for index in range(len(data))], eof) == whole
