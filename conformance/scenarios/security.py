"""Security defaults: certificate verification, basic_auth, secrets in logs, origins, max_size."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
import ssl
from collections.abc import Iterator
from typing import Any

import trustme

from ..raw import CLIENT_MASK, OP_BINARY, RawConnection, encode_frame
from ..reliability import harness
from ..scenario import Pair, scenario
from ._shapes import hold

# The scenario ids' prefix, under which the catalogue declares differences.
PREFIX = "reliability.security"
PASSWORD = "s3cret-Pa55word"
CREDENTIALS = ("user", PASSWORD)
# A frame header announcing 64 MiB, sent without its payload.
ANNOUNCED = 64 * harness.MIB
SLACK = 1.0


def server_context() -> ssl.SSLContext:
    """A server certificate for 127.0.0.1 from a CA no trust store knows."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    return context


@scenario("connect", prefix=PREFIX, debug=True)
async def wss_verifies(pair: Pair) -> Any:
    """A wss:// client without an ssl argument rejects an unknown certificate."""
    async with pair.serving(hold, ssl=server_context()) as server:
        url = pair.url(server).replace("ws://", "wss://")
        try:
            async with pair.connect(url):
                return {"outcome": "connected"}
        except ssl.SSLCertVerificationError as exc:
            return {"outcome": type(exc).__name__, "verify_code": exc.verify_code}
        except Exception as exc:
            return {"outcome": type(exc).__name__}


@contextlib.contextmanager
def digest_calls() -> Iterator[list[tuple[Any, Any]]]:
    """Record the arguments of every ``hmac.compare_digest`` call."""
    calls: list[tuple[Any, Any]] = []
    original = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return original(a, b)

    hmac.compare_digest = spy
    try:
        yield calls
    finally:
        hmac.compare_digest = original


def as_text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@scenario("async-basic-auth", prefix=PREFIX, debug=True)
async def basic_auth_constant_time(pair: Pair) -> Any:
    """Passwords of known users are compared with hmac.compare_digest."""
    auth = pair.server_module.basic_auth(credentials=CREDENTIALS)
    result = {}
    async with pair.serve(hold, process_request=auth) as url:
        for case, userinfo in [("right", f"user:{PASSWORD}"), ("wrong", "user:guess")]:
            with digest_calls() as calls:
                outcome = await pair.catch(
                    opened(pair, url.replace("ws://", f"ws://{userinfo}@"))
                )
            given = userinfo.partition(":")[2]
            result[case] = {
                "outcome": outcome,
                "constant_time": any(given in map(as_text, call) for call in calls),
            }
    return result


async def opened(pair: Pair, url: str, **kwargs: Any) -> str:
    """Connect, close, and say so; raise what connect raises."""
    async with pair.connect(url, **kwargs):
        return "opened"


def no_secrets(outcome: Any) -> list[str]:
    """Whatever websockets logs, no secret may reach the logs."""
    logged = outcome["secrets_logged"]
    return [f"secrets reached the logs: {logged}"] if logged else []


@scenario("attributes", prefix=PREFIX, require=no_secrets, debug=True)
async def secrets_not_logged(pair: Pair) -> Any:
    """With every logger at DEBUG, no record holds a password or an Authorization value.

    The trace holds the handshakes, which secrets were logged (required to be none) and the
    Authorization lines logged, each secret in them written as its name.
    """
    auth = pair.server_module.basic_auth(credentials=CREDENTIALS)
    token = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
    wrong = "wrong-Pa55word"
    secrets = {"password": PASSWORD, "authorization": token, "wrong-password": wrong,
               "wrong-authorization": base64.b64encode(f"user:{wrong}".encode()).decode()}
    with harness.capture(logging.DEBUG) as logs:
        async with pair.serve(hold, process_request=auth) as url:
            outcomes = [
                await pair.catch(opened(pair, url.replace("ws://", f"ws://user:{PASSWORD}@"))),
                await pair.catch(opened(pair, url.replace("ws://", f"ws://user:{wrong}@"))),
                await pair.catch(opened(pair, url, additional_headers={
                    "Authorization": f"Basic {token}"})),
            ]
    texts = list(logs.texts())
    logged = sorted(name for name, secret in secrets.items() if any(secret in t for t in texts))
    lines = set()
    for record in logs.records:
        message = record.getMessage()
        if "Authorization:" in message:
            for name, secret in sorted(secrets.items(), key=lambda item: -len(item[1])):
                message = message.replace(secret, f"<{name}>")
            lines.add(message)
    return {"outcomes": outcomes, "secrets_logged": logged, "authorization_logged": sorted(lines)}


@scenario("handshake", prefix=PREFIX, debug=True)
async def origins_rejected(pair: Pair) -> Any:
    """A handshake from an origin not in ``origins`` is rejected with 403."""
    async with pair.serve(hold, origins=["https://good.example"]) as url:
        return {
            "evil": await pair.catch(opened(pair, url, origin="https://evil.example")),
            "good": await pair.catch(opened(pair, url, origin="https://good.example")),
        }


@scenario("limits", sides="server", prefix=PREFIX, debug=True)
async def max_size_server(pair: Pair) -> Any:
    """The server closes with 1009 on a frame header announcing more than max_size."""
    async with pair.serve(hold, max_size=1024) as url, pair.connect_raw(url) as client:
        start = asyncio.get_running_loop().time()
        await client.send(encode_frame(OP_BINARY, b"", mask=CLIENT_MASK,
                                       length_override=ANNOUNCED))
        frame = await client.read_frame(timeout=SLACK * 2)
        prompt = asyncio.get_running_loop().time() - start < SLACK
        return {"frame": frame and frame.trace(), "prompt": prompt}


@scenario("limits", sides="client", prefix=PREFIX, debug=True)
async def max_size_client(pair: Pair) -> Any:
    """The client closes with 1009 on a frame header announcing more than max_size."""
    seen: list[Any] = []

    async def script(connection: RawConnection) -> None:
        await connection.send(encode_frame(OP_BINARY, b"", length_override=ANNOUNCED))
        frame = await connection.read_frame(timeout=SLACK * 2)
        seen.append(frame and frame.trace())

    async with pair.serve_raw(script) as server, pair.connect(server.url, max_size=1024) as ws:
        start = asyncio.get_running_loop().time()
        outcome = await pair.catch(ws.recv())
        prompt = asyncio.get_running_loop().time() - start < SLACK
    return {"recv": outcome, "prompt": prompt, "peer_read": seen}
