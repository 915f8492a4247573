"""compat.uri parses WebSocket URIs and proxies, and finds proxies, like websockets."""

from __future__ import annotations

import os
import types
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.differential import check, sibling

URIS = [
    "ws://localhost/",
    "ws://localhost",
    "wss://localhost/",
    "ws://localhost:8765/path?query=1&b",
    "wss://LOCALHOST:443/",
    "ws://localhost:80",
    "ws://127.0.0.1:0/",
    "ws://[::1]:8000/chat",
    "WS://example.com/",
    "ws://user:pass@host/",
    "ws://us%3Aer:p%40ss@host/",
    "ws://user@host/",
    "ws://:@host/",
    "ws://user:%ff@host/",
    "ws://host/?",
    "ws://host/#",
    "ws://host/#frag",
    "ws://host:99999/",
    "ws://host:port/",
    "ws:///path",
    "ws://",
    "http://localhost/",
    "localhost:8765",
    "",
    "ws://høst/påth?qüery=ü",
    "ws://user:pässword@bücher.example/",
    "ws://localhost/pa th?a b",
    "ws://exa mple/",
]


def parse_uri(uri: str) -> Any:
    def parse(m: types.ModuleType) -> Any:
        parsed = m.parse_uri(uri)
        return parsed, parsed.resource_name, parsed.user_info

    return parse


@pytest.mark.parametrize("uri", URIS)
def test_parse_uri(uri: str) -> None:
    check("uri", parse_uri(uri))


@given(st.sampled_from(["ws://", "wss://", "http://", ""]), st.text("hé:@/?#[]%1a ", max_size=16))
@settings(max_examples=300)
def test_parse_any_uri(scheme: str, rest: str) -> None:
    check("uri", parse_uri(scheme + rest))


PROXIES = [
    "http://proxy:8080",
    "http://proxy",
    "https://proxy",
    "https://proxy/",
    "socks5h://proxy:1080",
    "socks5://proxy",
    "socks4a://proxy",
    "socks4://PROXY",
    "ftp://proxy",
    "proxy:8080",
    "http://",
    "http://proxy/path",
    "http://proxy?query",
    "http://proxy#fragment",
    "http://user:pass@proxy",
    "http://user@proxy",
    "http://us%3Aer:p%40ss@proxy",
    "http://[::1]:3128",
    "http://prøxy.example:3128",
    "http://proxy:123456",
]


def parse_proxy(proxy: str) -> Any:
    def parse(m: types.ModuleType) -> Any:
        parsed = m.parse_proxy(proxy)
        return parsed, parsed.user_info

    return parse


@pytest.mark.parametrize("proxy", PROXIES)
def test_parse_proxy(proxy: str) -> None:
    # websockets defines proxies in websockets.proxy; compat keeps them with URIs.
    check("proxy", parse_proxy(proxy))


@given(st.sampled_from(["http://", "socks5h://", "ftp://"]), st.text("hé:@/?#[]%1a ", max_size=16))
@settings(max_examples=300)
def test_parse_any_proxy(scheme: str, rest: str) -> None:
    check("proxy", parse_proxy(scheme + rest))


ENVIRONMENTS: list[dict[str, str]] = [
    {},
    {"http_proxy": "http://h:3128"},
    {"HTTPS_PROXY": "http://s:3128", "http_proxy": "http://h:3128"},
    {"socks_proxy": "http://socks:1080", "https_proxy": "http://s:3128"},
    {"socks_proxy": "socks5://socks:1080"},
    {"ws_proxy": "http://ws:1", "wss_proxy": "http://wss:2", "https_proxy": "http://s:3"},
    {"all_proxy": "socks5h://all:1080"},
    {"https_proxy": "http://s:3128", "no_proxy": "example.com"},
    {"https_proxy": "http://s:3128", "no_proxy": "*"},
    {"https_proxy": "http://s:3128", "no_proxy": "other.org,.example.com"},
    # The standard library's rules on case: all-lowercase names win, even empty ones.
    {"HTTPS_PROXY": "http://upper:3128", "https_proxy": ""},
    {"Https_Proxy": "http://mixed:3128", "HTTP_PROXY": "http://upper:3128"},
    {"HTTP_PROXY": "http://upper:3128", "http_proxy": "http://lower:3128"},
    # In a CGI script, HTTP_PROXY may come from a request header: only http_proxy counts.
    {"HTTP_PROXY": "http://cgi:3128", "REQUEST_METHOD": "GET"},
    {"http_proxy": "http://cgi:3128", "REQUEST_METHOD": "GET"},
]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("uri", ["ws://example.com/", "wss://www.example.com:8443/"])
def test_get_proxy(environment: dict[str, str], uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in os.environ:
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    def get(m: types.ModuleType) -> Any:
        return m.get_proxy(sibling(m, "uri").parse_uri(uri))

    check("proxy", get)
