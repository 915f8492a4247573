"""Data structures applications build themselves: Headers."""

from __future__ import annotations

from typing import Any

from ..scenario import Pair, scenario


@scenario("handshake", sides="client", id="datastructures.headers-copy")
async def headers_copy(pair: Pair) -> Any:
    """Adding a value to a header of a Headers copy leaves the original as it was."""
    assert pair.client_target is not None
    headers_type = pair.client_target.module("datastructures").Headers
    original = headers_type([("Host", "a")])
    copy = original.copy()
    copy["Host"] = "b"
    return {"original": original.get_all("Host"), "copy": copy.get_all("Host")}
