"""Negotiated extensions pick the connection's paths: compat's permessage-deflate alone is fast."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from websockets.extensions import permessage_deflate as reference

from compat.asyncio.connection import Connection
from compat.extensions.base import Extension
from compat.extensions.permessage_deflate import PerMessageDeflate, as_native
from compat.frames import Frame
from compat.typing import ExtensionName


class Identity(Extension):
    """An extension that changes nothing."""

    name = ExtensionName("x-identity")

    def decode(self, frame: Frame, *, max_size: int | None = None) -> Frame:
        return frame

    def encode(self, frame: Frame) -> Frame:
        return frame


class Subclass(PerMessageDeflate):
    """A permessage-deflate of the application's own, which must see frames itself."""


def paths(extensions: list[Any]) -> tuple[bool, bool, bool, bool]:
    """Whether the connection has the fast codec, a chain, plain writes and fast frames."""
    connection = Connection(is_client=True, logger=logging.getLogger("test"), extensions=extensions)
    return (
        connection.deflate is not None,
        connection._extensions is not None,
        connection._plain_writes,
        connection._fast_frames,
    )


async def test_no_extension() -> None:
    """Without extensions, data is written as given and whole messages take the fast path."""
    assert paths([]) == (False, False, True, True)


async def test_permessage_deflate_alone() -> None:
    """compat's permessage-deflate alone compresses without going through the chain."""
    assert paths([PerMessageDeflate(False, False, 15, 15)]) == (True, False, False, True)


@pytest.mark.parametrize(
    "extensions",
    [
        [Identity()],
        [Subclass(False, False, 15, 15)],
        [Identity(), PerMessageDeflate(False, False, 15, 15)],
    ],
    ids=["custom", "subclass", "custom-and-deflate"],
)
async def test_other_extensions(extensions: list[Any]) -> None:
    """Any other extension sees every frame, in order."""
    assert paths(extensions) == (False, True, False, False)


def test_websockets_permessage_deflate_runs_on_compat_codec() -> None:
    """websockets' permessage-deflate, negotiated by its factories, runs on compat's codec."""
    theirs = reference.PerMessageDeflate(True, False, 10, 11, {"memLevel": 4})
    ours = as_native(theirs)
    assert type(ours) is PerMessageDeflate
    assert repr(ours) == repr(theirs)
    assert ours.compress_settings == {"memLevel": 4}


def test_other_extensions_are_kept() -> None:
    """Extensions compat doesn't implement, and its own, are used as they are."""
    for extension in (Identity(), Subclass(False, False, 15, 15), object()):
        assert as_native(extension) is extension
