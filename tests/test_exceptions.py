"""compat.exceptions matches websockets.exceptions: names, bases, attributes, args and str()."""

from __future__ import annotations

import itertools
import tomllib
import types
from collections.abc import Callable
from typing import Any

import pytest

from compat.exceptions import UNSUPPORTED_FEATURES, UnsupportedFeature
from conformance.catalogue import PATH, load
from tests.differential import check, modules, plain, sibling

REFERENCE, SUBJECT = modules("exceptions")

Build = Callable[[types.ModuleType], BaseException]


def close(code: int, reason: str) -> Callable[[types.ModuleType], Any]:
    return lambda exceptions: sibling(exceptions, "frames").Close(code, reason)


def response(status: int) -> Callable[[types.ModuleType], Any]:
    def build(exceptions: types.ModuleType) -> Any:
        http11 = sibling(exceptions, "http11")
        headers = sibling(exceptions, "datastructures").Headers()
        return http11.Response(status, "Reason", headers)

    return build


CLOSES = [None, close(1000, ""), close(1001, "bye"), close(1006, ""), close(4000, "app")]


def closed(name: str, rcvd: Any, sent: Any, order: bool | None) -> Build:
    """A case constructing ``name``, a ConnectionClosed class, from frame builders and order."""

    def build(m: types.ModuleType) -> BaseException:
        frames = [None if make is None else make(m) for make in (rcvd, sent)]
        return getattr(m, name)(*frames, order)  # type: ignore[no-any-return]

    return build


def closed_cases() -> list[tuple[str, Build]]:
    """ConnectionClosed and subclasses for every pair of frames and every possible order."""
    names = ["ConnectionClosed", "ConnectionClosedOK", "ConnectionClosedError"]
    return [
        (f"{name}-{i}-{order}", closed(name, rcvd, sent, order))
        for name in names
        for i, (rcvd, sent) in enumerate(itertools.product(CLOSES, CLOSES))
        for order in ([None] if rcvd is None or sent is None else [True, False])
    ]


def simple(name: str, *args: Any) -> tuple[str, Build]:
    """A case constructing exception ``name`` with plain ``args``."""
    return f"{name}{args}", lambda m: getattr(m, name)(*args)


ARGLESS = [
    name
    for name in REFERENCE.__all__
    if getattr(REFERENCE, name).__init__ is BaseException.__init__
]

CASES: list[tuple[str, Build]] = [
    *closed_cases(),
    *(simple(name) for name in ARGLESS),
    *(simple(name, "some message") for name in ARGLESS),
    simple("InvalidURI", "ws://x#f", "fragment identifier is meaningless"),
    simple("InvalidProxy", "ftp://p", "scheme ftp isn't supported"),
    simple("InvalidMethod", "POST"),
    simple("InvalidProtocol", "HTTP/1.0"),
    *(simple("InvalidHeader", "Upgrade", value) for value in (None, "", "h2c")),
    simple("InvalidHeader", "Upgrade"),
    simple("InvalidHeaderFormat", "Connection", "expected token", "a b", 2),
    *(simple(name, "Sec-WebSocket-Key", "x") for name in ("InvalidHeaderValue", "InvalidUpgrade")),
    *(simple("InvalidOrigin", origin) for origin in (None, "", "https://evil")),
    simple("DuplicateParameter", "server_max_window_bits"),
    simple("InvalidParameterName", "foo"),
    *(simple("InvalidParameterValue", "bits", value) for value in (None, "", "99")),
    simple("PayloadTooBig", 2000, 1000),
    simple("PayloadTooBig", None, 1000),
    simple("PayloadTooBig", 2000, 1000, 500),
    simple("PayloadTooBig", None, 1000, 500),
    simple("TooManyFragments", 16),
    ("InvalidStatus", lambda m: m.InvalidStatus(response(403)(m))),
    ("InvalidProxyStatus", lambda m: m.InvalidProxyStatus(response(407)(m))),
]


def describe(exc: BaseException) -> Any:
    """Everything a user can observe on an exception without calling deprecated properties."""
    return plain(exc), plain(vars(exc))


def test_same_public_names() -> None:
    assert set(SUBJECT.__all__) == {*REFERENCE.__all__, "UnsupportedFeature"}


@pytest.mark.parametrize("name", REFERENCE.__all__)
def test_same_ancestry(name: str) -> None:
    reference, subject = getattr(REFERENCE, name), getattr(SUBJECT, name)
    assert [cls.__name__ for cls in subject.__mro__] == [cls.__name__ for cls in reference.__mro__]


@pytest.mark.parametrize(("build"), [build for _, build in CASES], ids=[i for i, _ in CASES])
def test_same_str_args_and_attributes(build: Build) -> None:
    check("exceptions", lambda m: describe(build(m)))


@pytest.mark.parametrize("rcvd", CLOSES)
@pytest.mark.parametrize("prop", ["code", "reason"])
def test_deprecated_code_and_reason(rcvd: Any, prop: str) -> None:
    def read(m: types.ModuleType) -> Any:
        exc = m.ConnectionClosed(None if rcvd is None else rcvd(m), None)
        with pytest.warns(DeprecationWarning, match=f"ConnectionClosed.{prop} is deprecated"):
            return getattr(exc, prop)

    check("exceptions", read)


def test_connection_closed_requires_order_exactly_with_both_frames() -> None:
    def build(m: types.ModuleType) -> Any:
        return m.ConnectionClosed(close(1000, "")(m), None, True)

    assert check("exceptions", build)[1] == "AssertionError"


@pytest.mark.parametrize("current_size", [None, 100])
def test_payload_too_big_set_current_size(current_size: int | None) -> None:
    def build(m: types.ModuleType) -> Any:
        exc = m.PayloadTooBig(300, 1000)
        exc.set_current_size(current_size)
        return describe(exc)

    check("exceptions", build)


def test_payload_too_big_message_is_deprecated() -> None:
    def build(m: types.ModuleType) -> Any:
        with pytest.warns(DeprecationWarning, match="PayloadTooBig\\(message\\) is deprecated"):
            return describe(m.PayloadTooBig("too big"))

    check("exceptions", build)


def test_unsupported_feature() -> None:
    exc = UnsupportedFeature(
        "non-ascii-request-headers", detail="non-ASCII text in the X request header"
    )
    assert isinstance(exc, NotImplementedError)
    assert exc.feature == "non-ascii-request-headers"
    assert exc.alternative == UNSUPPORTED_FEATURES["non-ascii-request-headers"].alternative
    assert str(exc) == (
        "non-ASCII text in the X request header is not supported by compat; "
        "send ASCII header names and values, e.g. percent-encode text with urllib.parse.quote()"
    )


@pytest.mark.parametrize("feature", sorted(UNSUPPORTED_FEATURES))
def test_unsupported_feature_without_detail_names_the_feature(feature: str) -> None:
    exc = UnsupportedFeature(feature)
    what, alternative = UNSUPPORTED_FEATURES[feature]
    assert (exc.feature, exc.alternative) == (feature, alternative)
    assert str(exc) == f"{what} is not supported by compat; {alternative}"


def test_unknown_unsupported_feature_is_refused() -> None:
    with pytest.raises(KeyError):
        UnsupportedFeature("no-such-feature")


def test_unsupported_features_are_the_catalogues() -> None:
    """compat's table and the catalogue's unsupported features have the same ids; the catalogue
    takes the alternative from the table, and doesn't write one itself."""
    catalogue = load()
    unsupported = [feature for feature in catalogue.features if feature.status == "unsupported"]
    assert {feature.id for feature in unsupported} == set(UNSUPPORTED_FEATURES)
    for feature in unsupported:
        assert feature.error == "UnsupportedFeature"
        assert feature.alternative == UNSUPPORTED_FEATURES[feature.id].alternative
    raw = tomllib.loads(PATH.read_text(encoding="utf-8"))
    for entry in raw["feature"]:
        if entry["status"] == "unsupported":
            assert "alternative" not in entry and "error" not in entry, entry["id"]
