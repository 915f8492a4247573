"""Generated connect() / serve() keywords from the seed's supported and unsupported lines.

With only supported keywords a target connects (or serves) and echoes a message like the
reference, or fails like it to reach something absent that a supported feature's keywords name;
with any keyword of an unsupported catalogue feature, the call raises the feature's documented
error (``UnsupportedFeature``) while websockets accepts the same keywords.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from hypothesis import example, given

from conformance import catalogue, trace
from conformance.scenario import Pair, register_property
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


# Keywords requesting each unsupported feature, built from a target's client or server module:
# none is left. ssl-false isn't here: websockets itself rejects ssl=False with a wss:// URI.
UNSUPPORTED_CONNECT: dict[str, Keywords] = {}
UNSUPPORTED_SERVE: dict[str, Keywords] = {}
# Keywords of supported seed features that need something absent on loopback: websockets
# accepts them and fails reaching it with an OSError; the target must fail the same way.
UNREACHABLE_CONNECT: dict[str, Keywords] = {
    "proxy-tls": lambda module: {"proxy": ABSENT_PROXY, "proxy_ssl": True},
}
SEED_CONNECT = {**UNSUPPORTED_CONNECT, **UNREACHABLE_CONNECT}


def materialise(
    kwargs: dict[str, Any], module: Any, deflate: Callable[[], Any]
) -> dict[str, Any]:
    """
    Replace the strategies' placeholders with hooks built from a target's client or server
    module, and with factories from its permessage-deflate module, returned by ``deflate()``.
    """
    hooks: dict[str, Callable[[], Any]] = {
        "sync-hook": lambda: sync_hook,
        "async-hook": lambda: async_hook,
        "async-basic-auth": lambda: module.basic_auth(check_credentials=check_credentials),
    }
    factories = {
        "client-deflate": lambda: deflate().ClientPerMessageDeflateFactory(
            server_max_window_bits=10, client_no_context_takeover=True
        ),
        "server-deflate": lambda: deflate().ServerPerMessageDeflateFactory(
            server_max_window_bits=11, client_max_window_bits=10
        ),
    }

    def value(item: Any) -> Any:
        if isinstance(item, str) and item in hooks:
            return hooks[item]()
        if isinstance(item, list):
            return [factories[part]() if part in factories else part for part in item]
        return item

    return {key: value(item) for key, item in kwargs.items()}


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
        options = materialise(kwargs, pair.client_module, lambda: pair.client_deflate)
        for feature in features:
            options.update(SEED_CONNECT[feature](pair.client_module))
        return await echoes(pair, url + "/", **options)

    return await pair.catch(attempt())


async def attempt_serve(
    harness: Harness, side: Target, kwargs: dict[str, Any], features: list[str]
) -> Any:
    """Outcome of ``side``'s serve() with the keywords, reached by the reference client."""
    pair = Pair(REFERENCE_TARGET, side)

    async def attempt() -> Any:
        options = materialise(kwargs, pair.server_module, lambda: pair.server_deflate)
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
    """
    The reference accepts the keywords; the target raises if any is unsupported, else has the
    reference's outcome: an echo, or the error reaching what's absent.
    """
    name = outcome_name(reference)
    unreachable = UNREACHABLE_CONNECT.keys() & set(features)
    if name in ("TypeError", "ValueError") or (not unreachable and name != "echo"):
        raise AssertionError(f"websockets rejects {example!r}: {reference}")
    unsupported = [feature for feature in features if feature not in UNREACHABLE_CONNECT]
    if not unsupported:
        tally.expect(actual == reference, example, f"expected {reference}, got {actual}")
        return
    wanted = {catalogue.load().feature(feature).error for feature in unsupported}
    tally.expect(outcome_name(actual) in wanted, example, f"expected {wanted}, got {actual}")


@register_property("seed-connect-keywords", "connect")
def test_connect_keywords(harness: Harness, target: Target) -> None:
    """connect() accepts supported keywords and rejects unsupported features at the call.

    With the keywords of an HTTPS proxy that isn't there, it fails like websockets to reach it.
    """

    @given(choice=strategies.options(strategies.SUPPORTED_CONNECT, sorted(SEED_CONNECT)))
    # Regression: websockets sends an empty extensions header for extensions=[] without
    # compression, and rejects it; the keyword strategies use a real factory.
    @example(choice=({"compression": None, "extensions": ["client-deflate"]}, []))
    @example(choice=({}, ["proxy-tls"]))
    def connect_keywords(tally: Tally, choice: tuple[dict[str, Any], list[str]]) -> None:
        kwargs, features = choice
        reference = harness.run(attempt_connect(harness, REFERENCE_TARGET, kwargs, features))
        actual = harness.run(attempt_connect(harness, target, kwargs, features))
        expectations(tally, reference, actual, features, choice)

    harness.measure("seed-connect-keywords", target, connect_keywords)


@register_property("seed-serve-keywords", "serve")
def test_serve_keywords(harness: Harness, target: Target) -> None:
    """serve() accepts supported keywords and rejects unsupported features at the call."""

    @given(choice=strategies.options(strategies.SUPPORTED_SERVE, sorted(UNSUPPORTED_SERVE)))
    def serve_keywords(tally: Tally, choice: tuple[dict[str, Any], list[str]]) -> None:
        kwargs, features = choice
        reference = harness.run(attempt_serve(harness, REFERENCE_TARGET, kwargs, features))
        actual = harness.run(attempt_serve(harness, target, kwargs, features))
        expectations(tally, reference, actual, features, choice)

    harness.measure("seed-serve-keywords", target, serve_keywords)


def test_keywords_are_seed_features() -> None:
    """The keyword tables request seed features: unsupported ones, or supported unreachable ones."""
    features = {feature.id: feature for feature in catalogue.load().features}
    for feature_id in {*UNSUPPORTED_CONNECT, *UNSUPPORTED_SERVE}:
        assert features[feature_id].status == "unsupported"
        assert features[feature_id].seed is not None
    for feature_id in UNREACHABLE_CONNECT:
        assert features[feature_id].status == "supported"
        assert features[feature_id].seed is not None
