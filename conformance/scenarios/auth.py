"""HTTP Basic Authentication: basic_auth() on the server, URI credentials on the client."""

from __future__ import annotations

from typing import Any

from ..scenario import Pair, family, scenario
from ._shapes import Recorder, hold
from .hooks import handshake

USERS = [("alice", "wonderland"), ("bob", "builder")]


def check(username: str, password: str) -> bool:
    """A synchronous check accepting the users of ``USERS``."""
    return (username, password) in USERS


AUTH_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("auth.tuple-ok", "credentials as one pair, right password",
     {"options": {"credentials": USERS[0]}, "userinfo": "alice:wonderland"}),
    ("auth.list-first-user", "credentials as a list of pairs, first user",
     {"options": {"credentials": USERS}, "userinfo": "alice:wonderland"}),
    ("auth.list-second-user", "credentials as a list of pairs, second user",
     {"options": {"credentials": USERS}, "userinfo": "bob:builder"}),
    ("auth.list-crossed-passwords", "credentials as a list of pairs, another user's password",
     {"options": {"credentials": USERS}, "userinfo": "bob:wonderland"}),
    ("auth.unknown-user", "a user that isn't in the credentials",
     {"options": {"credentials": USERS}, "userinfo": "carol:wonderland"}),
    ("auth.check-ok", "a synchronous check_credentials accepting",
     {"options": {"check_credentials": check}, "userinfo": "bob:builder"}),
    ("auth.check-rejects", "a synchronous check_credentials rejecting",
     {"options": {"check_credentials": check}, "userinfo": "bob:nope"}),
    ("auth.realm-wrong-password", "a wrong password: 401 with the realm in WWW-Authenticate",
     {"options": {"realm": "my realm", "credentials": USERS[0]}, "userinfo": "alice:x"}),
    ("auth.realm-missing-header", "no Authorization header: 401 with WWW-Authenticate",
     {"options": {"realm": "my realm", "credentials": USERS[0]}}),
    ("auth.bearer-scheme", "an Authorization header with a non-Basic scheme",
     {"options": {"credentials": USERS[0]}, "headers": {"Authorization": "Bearer abc"}}),
    ("auth.malformed-basic", "Basic credentials that aren't base64 of user:password",
     {"options": {"credentials": USERS[0]}, "headers": {"Authorization": "Basic !!!"}}),
    ("auth.basic-without-colon", "Basic credentials without a colon",
     {"options": {"credentials": USERS[0]}, "headers": {"Authorization": "Basic YWxpY2U="}}),
    ("auth.header-credentials", "credentials in additional_headers rather than the URI",
     {"options": {"credentials": USERS[0]},
      "headers": {"Authorization": "Basic YWxpY2U6d29uZGVybGFuZA=="}}),
    ("auth.percent-encoded-userinfo", "percent-encoded user and password in the URI",
     {"options": {"credentials": ("al ice", "p@ss:word")}, "userinfo": "al%20ice:p%40ss%3Aword"}),
]


@family("serve", AUTH_CASES)
async def basic_auth(
    pair: Pair,
    options: dict[str, Any],
    userinfo: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """basic_auth() as process_request: the handshake outcome and connection.username."""
    hook = pair.server_module.basic_auth(**options)

    async def body(ws: Any) -> Any:
        return ws.username

    recorder = Recorder(body)
    async with pair.serve(recorder, process_request=hook) as url:
        if userinfo is not None:
            url = url.replace("ws://", f"ws://{userinfo}@")
        kwargs = {} if headers is None else {"additional_headers": headers}
        outcome = await handshake(pair, url, lambda ws: "open", **kwargs)
        username = await recorder.wait(pair) if "result" in outcome else None
    return {"connect": outcome, "username": username}


ARGUMENT_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("auth.arguments-none", "basic_auth() without credentials nor check_credentials",
     {"options": {}}),
    ("auth.arguments-both", "basic_auth() with both credentials and check_credentials",
     {"options": {"credentials": USERS[0], "check_credentials": check}}),
    ("auth.arguments-bad-pair", "basic_auth() with credentials that aren't string pairs",
     {"options": {"credentials": [("alice", 1)]}}),
    ("auth.arguments-not-iterable", "basic_auth() with credentials that aren't iterable",
     {"options": {"credentials": 42}}),
]


@family("serve", ARGUMENT_CASES)
async def arguments(pair: Pair, options: dict[str, Any]) -> Any:
    """basic_auth() validates its arguments when called."""

    async def call() -> Any:
        return callable(pair.server_module.basic_auth(**options))

    return await pair.catch(call())


@scenario("connect")
async def uri_credentials_header(pair: Pair) -> Any:
    """Credentials in ws://user:pass@host become an Authorization: Basic header."""

    async def body(ws: Any) -> Any:
        return ws.request.headers.get_all("Authorization")

    recorder = Recorder(body)
    async with pair.serve(recorder) as url:
        url = url.replace("ws://", "ws://user:p%40ss@")
        outcome = await handshake(pair, url, lambda ws: "open")
        return {"connect": outcome, "authorization": await recorder.wait(pair)}


@scenario("connect", sides="client")
async def uri_username_without_password(pair: Pair) -> Any:
    """ws://user@host: a username without a password is an invalid URI."""
    return await handshake(pair, "ws://user@127.0.0.1:9/")


@scenario("serve")
async def username_unset_without_auth(pair: Pair) -> Any:
    """Without basic_auth, reading connection.username raises AttributeError."""

    async def body(ws: Any) -> Any:
        return ws.username

    recorder = Recorder(body)
    async with pair.serve(recorder) as url, pair.connect(url):
        outcome = await recorder.wait(pair)
    return {"exception": outcome.get("exception")} if outcome else outcome


@scenario("serve")
async def check_called_with(pair: Pair) -> Any:
    """check_credentials receives the decoded username and password, once per attempt."""
    calls: list[list[str]] = []

    def recording(username: str, password: str) -> bool:
        calls.append([username, password])
        return check(username, password)

    hook = pair.server_module.basic_auth(check_credentials=recording)
    async with pair.serve(hold, process_request=hook) as url:
        good = await handshake(pair, url.replace("ws://", "ws://alice:wonderland@"), lambda ws: 1)
        bad = await handshake(pair, url.replace("ws://", "ws://alice:w%C3%B6@"), lambda ws: 1)
    return {"good": good, "bad": bad, "calls": calls}
