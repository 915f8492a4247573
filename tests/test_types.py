"""compat's type aliases, states, version and HTTP messages match websockets'."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import re
import subprocess
import sys
import types
from typing import Any, NewType

import pytest

import compat.version
from tests.differential import check, modules, sibling

ALIASES = [
    "Data",
    "BytesLike",
    "DataLike",
    "LoggerLike",
    "PathLike",
    "StatusLike",
    "Origin",
    "Subprotocol",
    "ExtensionName",
    "ExtensionParameter",
    "ExtensionHeader",
    "ConnectionOption",
    "UpgradeProtocol",
]


def describe_alias(module: types.ModuleType, name: str) -> Any:
    """
    A type alias as text, without module paths: the library's own, and ``typing.`` or
    ``collections.abc.`` which name the same generic ABCs.
    """
    alias = getattr(module, name)
    if isinstance(alias, NewType):
        return ("NewType", alias.__name__, alias.__supertype__)
    return re.sub(rf"\b({module.__name__}|typing|collections\.abc)\.", "", str(alias))


# websockets module -> compat module exporting its public names; websockets.protocol is the
# Sans-I/O layer, of which compat provides only Side and State.
PUBLIC = {
    "exceptions": "exceptions",
    "frames": "frames",
    "datastructures": "datastructures",
    "http11": "http11",
    "typing": "typing",
    "uri": "uri",
    "proxy": "proxy",
    "headers": "headers",
    "version": "version",
}


@pytest.mark.parametrize(("name", "subject"), PUBLIC.items())
def test_public_names(name: str, subject: str) -> None:
    reference, module = modules(name, subject)
    assert set(reference.__all__) <= set(module.__all__)


@pytest.mark.parametrize("name", ALIASES)
def test_same_type_alias(name: str) -> None:
    check("typing", lambda m: describe_alias(m, name))


@pytest.mark.parametrize("name", ["State", "Side"])
def test_same_protocol_enums(name: str) -> None:
    def members(m: types.ModuleType) -> Any:
        enum = getattr(m, name)
        return [(member.name, member.value, getattr(m, member.name) is member) for member in enum]

    check("protocol", members)


def test_version_matches_distribution() -> None:
    assert compat.version.version == importlib.metadata.version("compat")
    assert compat.version.tag == compat.version.commit == compat.version.version


def fields(cls: type) -> list[tuple[str, Any]]:
    return [(field.name, field.default) for field in dataclasses.fields(cls)]


@pytest.mark.parametrize("name", ["Request", "Response"])
def test_same_message_fields(name: str) -> None:
    check("http11", lambda m: fields(getattr(m, name)))


def headers(http11: types.ModuleType) -> Any:
    return sibling(http11, "datastructures").Headers(
        [("Host", "example.com"), ("X-Twice", "1"), ("x-twice", "é")]
    )


REQUESTS = [("/", {}), ("/chat?room=1", {"method": "POST", "protocol": "HTTP/1.0"})]
RESPONSES = [
    (101, "Switching Protocols", {}),
    (403, "Forbidden", {"body": b"no\n"}),
    (200, "Café", {"body": bytearray(b"x")}),
]


@pytest.mark.parametrize(("path", "extra"), REQUESTS)
def test_request(path: str, extra: dict[str, Any]) -> None:
    def build(m: types.ModuleType) -> Any:
        request = m.Request(path, headers(m), **extra)
        return request, request.serialize()

    check("http11", build)


@pytest.mark.parametrize(("status", "reason", "extra"), RESPONSES)
def test_response(status: int, reason: str, extra: dict[str, Any]) -> None:
    def build(m: types.ModuleType) -> Any:
        response = m.Response(status, reason, headers(m), **extra)
        return response, response.serialize()

    check("http11", build)


def test_request_rejects_non_ascii_request_line() -> None:
    check("http11", lambda m: m.Request("/é", headers(m)).serialize())


@pytest.mark.parametrize("name", ["Request", "Response"])
def test_deprecated_exception_attribute(name: str) -> None:
    def read(m: types.ModuleType) -> Any:
        args = ("/", headers(m)) if name == "Request" else (200, "OK", headers(m))
        message = getattr(m, name)(*args, _exception=ValueError("x"))
        with pytest.warns(DeprecationWarning, match=f"{name}.exception is deprecated"):
            return message.exception

    check("http11", read)


@pytest.mark.parametrize("name", ["USER_AGENT", "SERVER"])
def test_default_agent_names_compat(name: str) -> None:
    reference, subject = modules("http11")
    expected = getattr(reference, name).replace(
        f"websockets/{importlib.metadata.version('websockets')}",
        f"compat/{compat.version.version}",
    )
    assert getattr(subject, name) == expected


@pytest.mark.parametrize("name", ["USER_AGENT", "SERVER"])
def test_agent_from_environment(name: str) -> None:
    code = f"import compat.http11; print(compat.http11.{name})"
    env = {**os.environ, f"WEBSOCKETS_{name}": "custom/1.0"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout == "custom/1.0\n"
