"""Generated connect() / serve() keywords from the seed's supported and unsupported lines.

With only supported keywords a target connects (or serves) and echoes a message like the
reference; with any keyword of an unsupported catalogue feature, the call raises the feature's
documented error (``UnsupportedFeature``) while websockets accepts the same keywords.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)

from conformance import catalogue, trace
from conformance.scenario import Pair
from conformance.scenarios._shapes import echo
from conformance.targets import REFERENCE, Target

from . import strategies
from .differential import Harness, Tally, serving

REFERENCE_TARGET = Target(REFERENCE, REFERENCE, "reference")
CREDENTIALS = ("user", "pass")
AUTHORIZATION = "Basic " + base64.b64encode(":".join(CREDENTIALS).encode()).decode()
# Where an unreachable HTTPS proxy would be: nothing listens on the discard port.
ABSENT_PROXY = "https://127.0.0.1:9"

Keywords = Callable[[Any], dict[str, Any]]


async def check_credentials(username: str, password: str) -> bool:
    return (username, password) == CREDENTIALS


async def async_hook(*args: Any) -> None:
    return None


def sync_hook(*args: Any) -> None:
    return None


# Keywords requesting each unsupported feature, built from a target's client or server module.
# Extension factories come from websockets: any value is a custom extension for compat.
# ssl-false isn't here: websockets itself rejects ssl=False with a wss:// URI.
UNSUPPORTED_CONNECT: dict[str, Keywords] = {
    "extensions": lambda module: {"extensions": [ClientPerMessageDeflateFactory()]},
    "proxy-tls": lambda module: {"proxy": ABSENT_PROXY, "proxy_ssl": True},
}
UNSUPPORTED_SERVE: dict[str, Keywords] = {
    "extensions": lambda module: {"extensions": [ServerPerMessageDeflateFactory()]},
}
# Features whose keywords need something absent on loopback: websockets accepts the keywords
# and fails reaching it with an OSError.
UNREACHABLE = {"proxy-tls"}


def materialise(kwargs: dict[str, Any], module: Any) -> dict[str, Any]:
    """Replace the strategies' hook placeholders with hooks built from a target's module."""
    hooks = {
        "sync-hook": lambda: sync_hook,
        "async-hook": lambda: async_hook,
        "async-basic-auth": lambda: module.basic_auth(check_credentials=check_credentials),
    }
    return {
        key: hooks[value]() if isinstance(value, str) and value in hooks else value
        for key, value in kwargs.items()
    }


async def echoes(pair: Pair, url: str, **kwargs: Any) -> Any:
    """Connect with ``kwargs``, send a message and return the echo."""
    async with pair.connect(url, **kwargs) as ws:
        await ws.send("seed")
        return trace.message(await ws.recv())


async def attempt_connect(
    harness: Harness, side: Target, kwargs: dict[str, Any], features: list[str]
) -> Any:
    """Outcome of ``side``'s connect() with the keywords to the reference echo server."""
    pair = Pair(side, REFERENCE_TARGET)
    url = await harness.share("seed-echo", lambda: serving(pair, echo))

    async def attempt() -> Any:
        options = materialise(kwargs, pair.client_module)
        for feature in features:
            options.update(UNSUPPORTED_CONNECT[feature](pair.client_module))
        return await echoes(pair, url + "/", **options)

    return await pair.catch(attempt())


async def attempt_serve(
    harness: Harness, side: Target, kwargs: dict[str, Any], features: list[str]
) -> Any:
    """Outcome of ``side``'s serve() with the keywords, reached by the reference client."""
    pair = Pair(REFERENCE_TARGET, side)

    async def attempt() -> Any:
        options = materialise(kwargs, pair.server_module)
        for feature in features:
            options.update(UNSUPPORTED_SERVE[feature](pair.server_module))
        async with serving(pair, echo, **options) as url:
            headers = {"Authorization": AUTHORIZATION}
            return await echoes(pair, url + "/", additional_headers=headers, subprotocols=["chat"])

    return await pair.catch(attempt())


def outcome_name(outcome: Any) -> str:
    return "echo" if outcome == {"result": ["str", "seed"]} else outcome.get("exception", "?")


def expectations(
    tally: Tally, reference: Any, actual: Any, features: list[str], example: object
) -> None:
    """The reference accepts the keywords; the target echoes, or raises if any is unsupported."""
    name = outcome_name(reference)
    unreachable = UNREACHABLE.intersection(features)
    if name in ("TypeError", "ValueError") or (not unreachable and name != "echo"):
        raise AssertionError(f"websockets rejects {example!r}: {reference}")
    wanted = {catalogue.load().feature(feature).error for feature in features} or {"echo"}
    tally.expect(outcome_name(actual) in wanted, example, f"expected {wanted}, got {actual}")


def test_connect_keywords(harness: Harness, target: Target) -> None:
    """connect() accepts supported keywords and rejects unsupported features at the call."""

    @given(choice=strategies.options(strategies.SUPPORTED_CONNECT, sorted(UNSUPPORTED_CONNECT)))
    # Regression: websockets sends an empty extensions header for extensions=[] without
    # compression, and rejects it; the keyword tables use a real factory.
    @example(choice=({"compression": None}, ["extensions"]))
    def connect_keywords(tally: Tally, choice: tuple[dict[str, Any], list[str]]) -> None:
        kwargs, features = choice
        reference = harness.run(attempt_connect(harness, REFERENCE_TARGET, kwargs, features))
        actual = harness.run(attempt_connect(harness, target, kwargs, features))
        expectations(tally, reference, actual, features, choice)

    harness.measure("seed-connect-keywords", target, connect_keywords)


def test_serve_keywords(harness: Harness, target: Target) -> None:
    """serve() accepts supported keywords and rejects unsupported features at the call."""

    @given(choice=strategies.options(strategies.SUPPORTED_SERVE, sorted(UNSUPPORTED_SERVE)))
    def serve_keywords(tally: Tally, choice: tuple[dict[str, Any], list[str]]) -> None:
        kwargs, features = choice
        reference = harness.run(attempt_serve(harness, REFERENCE_TARGET, kwargs, features))
        actual = harness.run(attempt_serve(harness, target, kwargs, features))
        expectations(tally, reference, actual, features, choice)

    harness.measure("seed-serve-keywords", target, serve_keywords)


def test_unsupported_keywords_are_seed_features() -> None:
    """Every feature the keyword tables request is an unsupported feature of the catalogue."""
    features = {feature.id: feature for feature in catalogue.load().features}
    for feature_id in {*UNSUPPORTED_CONNECT, *UNSUPPORTED_SERVE}:
        assert features[feature_id].status == "unsupported"
        assert features[feature_id].seed is not None
