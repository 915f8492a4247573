"""compat.datastructures.Headers behaves like websockets' on the same scripts of operations."""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compat.datastructures import Headers
from tests.differential import check, outcome

Step = Callable[[Any, types.ModuleType], Any]


def call(method: str, *args: Any, **kwargs: Any) -> Step:
    return lambda headers, _: getattr(headers, method)(*args, **kwargs)


def observe(headers: Any) -> Any:
    """What a user can see of a Headers instance."""
    return (
        str(headers),
        repr(headers),
        headers.serialize(),
        len(headers),
        list(headers),
        list(headers.raw_items()),
        {key: headers.get_all(key) for key in headers},
    )


STEPS: dict[str, Step] = {
    "getitem": lambda h, _: h["Host"],
    "getitem-lower": lambda h, _: h["host"],
    "getitem-multiple": lambda h, _: h["Set-Cookie"],
    "getitem-missing": lambda h, _: h["Missing"],
    "setitem": lambda h, _: h.__setitem__("SET-Cookie", "c=3"),
    "setitem-crlf": lambda h, _: h.__setitem__("X-Bad", "a\r\nInjected: 1"),
    "setitem-nul": lambda h, _: h.__setitem__("X-Bad", "\x00"),
    "setitem-latin1": lambda h, _: h.__setitem__("X-Latin", "caf\xe9"),
    "setitem-non-latin1": lambda h, _: h.__setitem__("X-Euro", "€"),
    "delitem": lambda h, _: h.__delitem__("set-cookie"),
    "delitem-missing": lambda h, _: h.__delitem__("Missing"),
    "contains": lambda h, _: ("HOST" in h, "Missing" in h, 1 in h),
    "get": call("get", "Host", "default"),
    "get-missing": call("get", "Missing", "default"),
    "get_all": call("get_all", "SET-COOKIE"),
    "get_all-missing": call("get_all", "Missing"),
    "items": lambda h, _: list(h.items()),
    "keys-values": lambda h, _: (list(h.keys()), list(h.values())),
    "update-mapping": call("update", {"A": "1", "Host": "other"}),
    "update-pairs": call("update", [("B", "2"), ("b", "3")]),
    "update-kwargs": call("update", C="4"),
    "update-two-args": call("update", {"A": "1"}, {"B": "2"}),
    "update-headers": lambda h, m: h.update(m.Headers(Z="26")),
    "setdefault": call("setdefault", "D", "5"),
    "pop": call("pop", "Host"),
    "pop-multiple": call("pop", "Set-Cookie", None),
    "popitem": call("popitem"),
    "clear": call("clear"),
    "eq": lambda h, m: (h == m.Headers(h.raw_items()), h == {}, h != m.Headers()),
    "copy": lambda h, _: observe(h.copy()),
    "copy-is-independent": lambda h, _: (h.copy().__setitem__("New", "1"), observe(h))[1],
}


def initial(m: types.ModuleType) -> Any:
    return m.Headers(
        [("Host", "example.com"), ("Set-Cookie", "a=1"), ("set-cookie", "b=2")], Upgrade="ws"
    )


@pytest.mark.parametrize("step", list(STEPS))
def test_step(step: str) -> None:
    def run(m: types.ModuleType) -> Any:
        headers = initial(m)
        return outcome(functools.partial(STEPS[step], headers, m)), observe(headers)

    check("datastructures", run)


@given(st.lists(st.sampled_from(list(STEPS)), max_size=12))
@settings(max_examples=100)
def test_script(script: list[str]) -> None:
    def run(m: types.ModuleType) -> Any:
        headers = initial(m)
        return [
            (outcome(functools.partial(STEPS[step], headers, m)), observe(headers))
            for step in script
        ]

    check("datastructures", run)


@pytest.mark.parametrize(
    "args",
    [(), ({"A": "1"},), ([("A", "1"), ("a", "2")],), ("not pairs",), (42,)],
    ids=["empty", "mapping", "pairs", "str", "int"],
)
def test_constructor(args: tuple[Any, ...]) -> None:
    check("datastructures", lambda m: observe(m.Headers(*args)))


@pytest.mark.parametrize("args", [("Set-Cookie",), ("a", "b"), ()])
def test_multiple_values_error(args: tuple[str, ...]) -> None:
    def build(m: types.ModuleType) -> Any:
        return str(m.MultipleValuesError(*args)), m.MultipleValuesError.__mro__[1].__name__

    check("datastructures", build)


def test_unhashable() -> None:
    check("datastructures", lambda m: hash(m.Headers()))


def test_copy_does_not_share_values() -> None:
    """Adding to a copy leaves the original alone (websockets 17.4's copies share values)."""
    original = Headers(Host="a")
    copy = original.copy()
    copy["Host"] = "b"
    assert original.get_all("Host") == ["a"]
    assert copy.get_all("Host") == ["a", "b"]
