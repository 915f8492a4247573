"""compat.headers parses and builds handshake headers like websockets.headers, errors included."""

from __future__ import annotations

import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.differential import check

PARSERS = ["parse_connection", "parse_upgrade", "parse_subprotocol", "parse_extension"]

LISTS = [
    "",
    "Upgrade",
    "keep-alive, Upgrade",
    ",, a ,, b ,,",
    "a ,b\t, c",
    "a b",
    "a,",
    ",",
    "a;",
    "websocket",
    "websocket/13, h2c",
    "websocket/",
    "/13",
    "chat, superchat",
    "permessage-deflate",
    "permessage-deflate; client_max_window_bits",
    "permessage-deflate;client_max_window_bits=10 ; server_no_context_takeover",
    'permessage-deflate; client_max_window_bits="10"',
    'permessage-deflate; client_max_window_bits="1 0"',
    'permessage-deflate; client_max_window_bits="\\1\\0"',
    'permessage-deflate; client_max_window_bits="10',
    "permessage-deflate; client_max_window_bits=",
    "permessage-deflate; =10",
    "foo; a = b ; c, bar; d",
    "foo;;",
    "é",
]


@pytest.mark.parametrize("header", LISTS)
@pytest.mark.parametrize("parser", PARSERS)
def test_parse_list_headers(parser: str, header: str) -> None:
    check("headers", lambda m: getattr(m, parser)(header))


@given(st.text(alphabet='ab/=;," \t\\é', max_size=20), st.sampled_from(PARSERS))
@settings(max_examples=500)
def test_parse_any_list_header(header: str, parser: str) -> None:
    check("headers", lambda m: getattr(m, parser)(header))


AUTHORIZATIONS = [
    "Basic dXNlcjpwYXNz",
    "basic dXNlcjpwYXNz",
    "BASIC dXNlcjo=",
    "Basic dXNlcg==",
    "Basic dXNlcjpwYXNz=",
    "Basic dXNlc",
    "Basic -._~",
    "Basic 6Oo6/w==",
    "Basic  dXNlcjpwYXNz",
    "Basic",
    "Basic dXNlcjpwYXNz extra",
    "Bearer token",
    "",
    " Basic dXNlcjpwYXNz",
]


@pytest.mark.parametrize("header", AUTHORIZATIONS)
def test_parse_authorization_basic(header: str) -> None:
    check("headers", lambda m: m.parse_authorization_basic(header))


@given(st.text(alphabet="Basic dXNlcjpwYXNz=-._~+/:", max_size=24))
@settings(max_examples=300)
def test_parse_any_authorization(header: str) -> None:
    check("headers", lambda m: m.parse_authorization_basic(header))


@pytest.mark.parametrize(
    ("username", "password"),
    [("user", "pass"), ("", ""), ("üser", "p:ss"), ("\udcff", "\udce9"), ("us:er", "pass")],
)
def test_build_authorization_basic(username: str, password: str) -> None:
    check("headers", lambda m: m.build_authorization_basic(username, password))


@pytest.mark.parametrize("realm", ["", "my realm", 'quote " and \\ backslash', "é", "line\nbreak"])
def test_build_www_authenticate_basic(realm: str) -> None:
    check("headers", lambda m: m.build_www_authenticate_basic(realm))


EXTENSIONS: list[list[tuple[str, list[tuple[str, str | None]]]]] = [
    [],
    [("permessage-deflate", [])],
    [("permessage-deflate", [("client_max_window_bits", None), ("server_max_window_bits", "10")])],
    [("a", [("b", "c")]), ("d", [])],
]


@pytest.mark.parametrize("extensions", EXTENSIONS)
def test_build_extension(extensions: Any) -> None:
    def build(m: types.ModuleType) -> Any:
        header = m.build_extension(extensions)
        return header, m.parse_extension(header) if extensions else None

    check("headers", build)


SUBPROTOCOLS: list[Any] = [
    ["chat"],
    ["chat", "superchat"],
    [],
    ("a", "b"),
    "chat",
    {"chat"},
    ["a b"],
]


@pytest.mark.parametrize("subprotocols", SUBPROTOCOLS)
def test_validate_and_build_subprotocol(subprotocols: Any) -> None:
    def build(m: types.ModuleType) -> Any:
        m.validate_subprotocols(subprotocols)
        return m.build_subprotocol(subprotocols)

    check("headers", build)


@pytest.mark.parametrize(
    ("host", "port", "secure", "always"),
    [
        ("example.com", 80, False, False),
        ("example.com", 443, False, False),
        ("example.com", 443, True, False),
        ("example.com", 443, True, True),
        ("127.0.0.1", 8765, False, False),
        ("::1", 80, False, False),
        ("::1", 8443, True, True),
    ],
)
def test_build_host(host: str, port: int, secure: bool, always: bool) -> None:
    check("headers", lambda m: m.build_host(host, port, secure, always_include_port=always))
