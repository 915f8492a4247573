"""Headers and MultipleValuesError as applications use them: equality, repr, clear, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import trace
from ..scenario import Pair, scenario


def attempt(call: Callable[[], Any]) -> Any:
    """The result of ``call()`` as trace data, or the exception it raised."""
    try:
        return {"result": trace.data(call())}
    except Exception as exc:
        return trace.exception(exc)


@scenario("handshake", sides="client", id="headers-api.equality")
async def headers_equality(pair: Pair) -> Any:
    """Headers compare equal by names (any case) and values, never equal to other types."""
    assert pair.client_target is not None
    headers_type = pair.client_target.module("datastructures").Headers
    headers = headers_type([("Host", "a"), ("X-Name", "1"), ("x-name", "2")])
    same = headers_type([("host", "a"), ("X-NAME", "1"), ("X-Name", "2")])
    reordered = headers_type([("X-Name", "2"), ("X-Name", "1"), ("Host", "a")])
    as_dict = {"Host": "a", "X-Name": "1"}
    return {
        "same": headers == same,
        "not-same": headers != same,
        "reordered": headers == reordered,
        "empty": headers_type() == headers_type(),
        "dict": headers == as_dict,
        "dict-reversed": as_dict == headers,
        "list": headers == list(headers.raw_items()),
        "none": headers == None,  # noqa: E711
        "eq-dict": headers.__eq__(as_dict) is NotImplemented,
        "eq-str": headers.__eq__("Host: a") is NotImplemented,
    }


@scenario("handshake", sides="client", id="headers-api.repr-str-clear")
async def headers_repr_clear(pair: Pair) -> Any:
    """repr() and str() of Headers, then clear() empties every view of them."""
    assert pair.client_target is not None
    headers_type = pair.client_target.module("datastructures").Headers
    headers = headers_type([("Host", "a"), ("X-Name", "caf\xe9"), ("x-name", "2")])
    before = {"repr": repr(headers), "str": str(headers), "len": len(headers)}
    copy = headers.copy()
    headers.clear()
    after = {
        "repr": repr(headers),
        "str": str(headers),
        "len": len(headers),
        "items": list(headers.raw_items()),
        "contains": "host" in headers,
        "get_all": headers.get_all("X-Name"),
        "serialize": repr(headers.serialize()),
        "copy-kept": list(copy.raw_items()),
        "equal-empty": headers == headers_type(),
    }
    headers["Host"] = "b"
    return {"before": before, "after": after, "reused": list(headers.raw_items())}


@scenario("handshake", sides="client", id="headers-api.subclass-repr")
async def headers_subclass_repr(pair: Pair) -> Any:
    """A subclass of Headers: repr() names it, equality with the base class holds."""
    assert pair.client_target is not None
    headers_type = pair.client_target.module("datastructures").Headers

    class Custom(headers_type):  # type: ignore[misc, valid-type]
        pass

    custom = Custom(Host="a")
    return {"repr": repr(custom), "equal": custom == headers_type(Host="a")}


@scenario("handshake", sides="client", id="headers-api.multiple-values-error")
async def multiple_values_error(pair: Pair) -> Any:
    """MultipleValuesError raised by a lookup, and built with zero, one or several arguments."""
    assert pair.client_target is not None
    module = pair.client_target.module("datastructures")
    headers = module.Headers([("X-Name", "1"), ("X-Name", "2")])
    error = module.MultipleValuesError

    def describe(exc: BaseException) -> Any:
        return {
            "str": str(exc),
            "repr": repr(exc),
            "args": list(exc.args),
            "lookup": isinstance(exc, LookupError),
        }

    built = [
        describe(error()),
        describe(error("X-Name")),
        describe(error("it's")),
        describe(error("X-Name", "again")),
        describe(error(1, 2, 3)),
    ]
    return {
        "getitem": attempt(lambda: headers["x-name"]),
        "get": attempt(lambda: headers.get("X-NAME")),
        "built": built,
    }
