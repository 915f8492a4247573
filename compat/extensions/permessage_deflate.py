"""
Negotiate and apply the permessage-deflate extension (RFC 7692) without doing any I/O.

The handshake rules and defaults are websockets' for ``compression="deflate"``, so that a compat
peer offers, accepts and answers exactly what a websockets peer would:

* the client offers ``permessage-deflate; client_max_window_bits``: it can compress with any
  window the server asks for but 8 bits, which zlib can't, and decompresses any window;
* the server caps both sliding windows at 12 bits (4 KiB) instead of zlib's 15 (32 KiB), and
  both sides compress with ``memLevel=5`` instead of 8: this cuts the zlib memory held per
  connection about seven times, to some 45 KiB, for a small loss of compression ratio on
  typical messages;
* context takeover is kept unless the peer asks otherwise, because it is what makes small,
  similar messages compress well.

Every data message is compressed once the extension is active; RSV1 is set on its first frame
only. Decompression stops at the maximum message size, so a small compressed payload cannot
make the receiver produce more than that limit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import zlib
from collections.abc import Sequence
from typing import Any, Literal

from ..exceptions import (
    DuplicateParameter,
    InvalidParameterName,
    InvalidParameterValue,
    NegotiationError,
    PayloadTooBig,
    ProtocolError,
)
from ..headers import build_extension, parse_extension
from ..typing import BytesLike, ExtensionHeader, ExtensionName, ExtensionParameter

__all__ = ["PerMessageDeflate", "client_accept", "client_offer", "server_negotiate"]

NAME = ExtensionName("permessage-deflate")

_EMPTY_UNCOMPRESSED_BLOCK = b"\x00\x00\xff\xff"

# Below this size, appending the block to the input is cheaper than a second decompress() call.
_INLINE_BLOCK_LIMIT = 2044

_MAX_WINDOW_BITS_VALUES = frozenset(str(bits) for bits in range(8, 16))

_ZLIB_WINDOW_BITS = 15

_SERVER_MAX_WINDOW_BITS = 12

_CLIENT_MAX_WINDOW_BITS = 12

_COMPRESS_SETTINGS = {"memLevel": 5}


class PerMessageDeflate:
    """
    Compress and decompress the data frames of one connection with negotiated parameters.

    ``remote_*`` parameters apply to what the peer sends, ``local_*`` ones to what we send.
    """

    name = NAME

    def __init__(
        self,
        remote_no_context_takeover: bool,
        local_no_context_takeover: bool,
        remote_max_window_bits: int,
        local_max_window_bits: int,
        compress_settings: dict[str, Any] | None = None,
    ) -> None:
        self.remote_no_context_takeover = remote_no_context_takeover
        self.local_no_context_takeover = local_no_context_takeover
        self.remote_max_window_bits = remote_max_window_bits
        self.local_max_window_bits = local_max_window_bits
        self.compress_settings = {} if compress_settings is None else compress_settings
        # Created when a message starts; dropped when it ends without context takeover.
        self._decoder: zlib._Decompress | None = None
        self._encoder: zlib._Compress | None = None
        # Bytes decoded so far from the compressed message being received, if any.
        self._decoded: int | None = None

    def __repr__(self) -> str:
        return (
            f"PerMessageDeflate("
            f"remote_no_context_takeover={self.remote_no_context_takeover}, "
            f"local_no_context_takeover={self.local_no_context_takeover}, "
            f"remote_max_window_bits={self.remote_max_window_bits}, "
            f"local_max_window_bits={self.local_max_window_bits})"
        )

    def decode_frame(
        self, data: BytesLike, *, rsv1: bool, fin: bool, max_size: int | None
    ) -> bytes:
        """
        Return the payload of a received data frame, decompressed if its message is.

        ``rsv1`` is the RSV1 bit of the message's first frame; ``max_size`` bounds the size of
        the whole decompressed message.

        Raises:
            PayloadTooBig: If the message exceeds ``max_size`` once decompressed; its
                ``current_size`` is already set to what the previous frames decoded to.
            ProtocolError: If the data isn't a valid deflate stream.
        """
        if not rsv1:
            return bytes(data)
        if self._decoder is None:
            self._decoder = zlib.decompressobj(wbits=-self.remote_max_window_bits)
        decoded = self._decoded
        # zlib reads a max_length of 0 as unlimited, so ask for 1 byte when none is left.
        budget = None if max_size is None else max_size - (decoded or 0)
        max_length = 0 if budget is None else max(budget, 1)
        inline = fin and len(data) < _INLINE_BLOCK_LIMIT
        try:
            output = self._decoder.decompress(
                bytes(data) + _EMPTY_UNCOMPRESSED_BLOCK if inline else data, max_length
            )
            too_big = budget is not None and (
                bool(self._decoder.unconsumed_tail) or len(output) > budget
            )
            if fin and not inline and not too_big:
                # Flushing may release output that the limit held back.
                held = self._decoder.decompress(
                    _EMPTY_UNCOMPRESSED_BLOCK, 0 if budget is None else 1
                )
                too_big = budget is not None and bool(held)
                output += held
        except zlib.error as exc:
            raise ProtocolError("decompression failed") from exc
        if too_big:
            assert budget is not None
            raise PayloadTooBig(None, budget, decoded)
        if fin:
            self._decoded = None
            if self.remote_no_context_takeover:
                self._decoder = None
        else:
            self._decoded = (decoded or 0) + len(output)
        return output

    def encode_frame(self, data: BytesLike, *, fin: bool) -> bytes:
        """
        Compress one frame of an outgoing data message.

        The first frame of the message must be sent with RSV1 set, the others without.
        """
        if self._encoder is None:
            self._encoder = zlib.compressobj(
                wbits=-self.local_max_window_bits, **self.compress_settings
            )
        output = self._encoder.compress(data) + self._encoder.flush(zlib.Z_SYNC_FLUSH)
        if not fin:
            return output
        if self.local_no_context_takeover:
            self._encoder = None
        # A sync flush ends with an empty stored block, which RFC 7692 leaves out of the message.
        return output[: -len(_EMPTY_UNCOMPRESSED_BLOCK)]


@dataclasses.dataclass(frozen=True)
class _Parameters:
    """permessage-deflate parameters of an offer or an answer."""

    server_no_context_takeover: bool = False
    client_no_context_takeover: bool = False
    server_max_window_bits: int | None = None
    # True only in an offer: the client supports the parameter without setting a limit.
    client_max_window_bits: int | Literal[True] | None = None

    def build(self) -> list[ExtensionParameter]:
        """Return the parameters as they appear in a header, in websockets' order."""
        params: list[ExtensionParameter] = []
        if self.server_no_context_takeover:
            params.append(("server_no_context_takeover", None))
        if self.client_no_context_takeover:
            params.append(("client_no_context_takeover", None))
        if self.server_max_window_bits is not None:
            params.append(("server_max_window_bits", str(self.server_max_window_bits)))
        if self.client_max_window_bits is True:
            params.append(("client_max_window_bits", None))
        elif self.client_max_window_bits is not None:
            params.append(("client_max_window_bits", str(self.client_max_window_bits)))
        return params

    @classmethod
    def parse(cls, params: Sequence[ExtensionParameter], *, offer: bool) -> _Parameters:
        """
        Read parameters from a header; ``client_max_window_bits`` may lack a value in an offer.

        Raises:
            NegotiationError: If a parameter is unknown, duplicated or has an invalid value.
        """
        flags: set[str] = set()
        window_bits: dict[str, int] = {}  # True for client_max_window_bits without a value
        for name, value in params:
            if name not in _PARAMETER_NAMES:
                raise InvalidParameterName(name)
            if name in flags or name in window_bits:
                raise DuplicateParameter(name)
            if name.endswith("_no_context_takeover"):
                if value is not None:
                    raise InvalidParameterValue(name, value)
                flags.add(name)
            elif value is None and offer and name == "client_max_window_bits":
                window_bits[name] = True
            elif value is not None and value in _MAX_WINDOW_BITS_VALUES:
                window_bits[name] = int(value)
            else:
                raise InvalidParameterValue(name, value)
        return cls(
            server_no_context_takeover="server_no_context_takeover" in flags,
            client_no_context_takeover="client_no_context_takeover" in flags,
            server_max_window_bits=window_bits.get("server_max_window_bits"),
            client_max_window_bits=window_bits.get("client_max_window_bits"),
        )


_PARAMETER_NAMES = frozenset(field.name for field in dataclasses.fields(_Parameters))

_OFFER = _Parameters(client_max_window_bits=True)


def _enabled(compression: str | None) -> bool:
    """Tell whether ``compression`` enables permessage-deflate; reject unknown values."""
    if compression is None:
        return False
    if compression == "deflate":
        return True
    raise ValueError(f"unsupported compression: {compression}")


def _parse(header_values: Sequence[str]) -> list[ExtensionHeader]:
    """Parse every ``Sec-WebSocket-Extensions`` header before looking at any of them."""
    return [extension for value in header_values for extension in parse_extension(value)]


def client_offer(compression: str | None) -> str | None:
    """Return the ``Sec-WebSocket-Extensions`` request header for ``compression``, if any."""
    if not _enabled(compression):
        return None
    return build_extension([(NAME, _OFFER.build())])


def _accept_answer(params: Sequence[ExtensionParameter]) -> PerMessageDeflate:
    """
    Configure the client for the server's answer to :data:`_OFFER`.

    Raises:
        NegotiationError: If the answer doesn't fit the offer.
    """
    answer = _Parameters.parse(params, offer=False)
    if answer.client_max_window_bits == 8:
        # zlib can't compress with a window of 8 bits.
        raise NegotiationError("unsupported client_max_window_bits = 8, use 9")
    return PerMessageDeflate(
        remote_no_context_takeover=answer.server_no_context_takeover,
        local_no_context_takeover=answer.client_no_context_takeover,
        remote_max_window_bits=answer.server_max_window_bits or _ZLIB_WINDOW_BITS,
        local_max_window_bits=answer.client_max_window_bits or _ZLIB_WINDOW_BITS,
        compress_settings=dict(_COMPRESS_SETTINGS),
    )


def client_accept(header_values: Sequence[str], offered: bool) -> PerMessageDeflate | None:
    """
    Check the ``Sec-WebSocket-Extensions`` response headers against what the client offered.

    Return the codec when the server accepted permessage-deflate, else :obj:`None`.

    Raises:
        InvalidHeaderFormat: If a header can't be parsed.
        NegotiationError: If the server accepted an extension that wasn't offered, several
            times the same one, or with parameters that don't fit the offer.
    """
    if not header_values:
        return None
    if not offered:
        raise NegotiationError("no extensions supported")
    accepted: PerMessageDeflate | None = None
    for name, params in _parse(header_values):
        extension = None
        if name == NAME and accepted is None:
            with contextlib.suppress(NegotiationError):
                extension = _accept_answer(params)
        if extension is None:
            raise NegotiationError(f"Unsupported extension: name = {name}, params = {params}")
        accepted = extension
    return accepted


def _answer_offer(
    params: Sequence[ExtensionParameter],
) -> tuple[list[ExtensionParameter], PerMessageDeflate]:
    """
    Answer a client's offer and configure the server accordingly.

    Raises:
        NegotiationError: If the offer can't be accepted.
    """
    offer = _Parameters.parse(params, offer=True)
    server_max_window_bits = min(
        offer.server_max_window_bits or _SERVER_MAX_WINDOW_BITS, _SERVER_MAX_WINDOW_BITS
    )
    if server_max_window_bits == 8:
        # zlib can't compress with a window of 8 bits.
        raise NegotiationError("unsupported server_max_window_bits = 8, use 9")
    client_max_window_bits = offer.client_max_window_bits
    if client_max_window_bits is True:
        client_max_window_bits = _CLIENT_MAX_WINDOW_BITS
    elif client_max_window_bits is not None:
        client_max_window_bits = min(client_max_window_bits, _CLIENT_MAX_WINDOW_BITS)
    answer = dataclasses.replace(
        offer,
        server_max_window_bits=server_max_window_bits,
        client_max_window_bits=client_max_window_bits,
    )
    return answer.build(), PerMessageDeflate(
        remote_no_context_takeover=offer.client_no_context_takeover,
        local_no_context_takeover=offer.server_no_context_takeover,
        remote_max_window_bits=client_max_window_bits or _ZLIB_WINDOW_BITS,
        local_max_window_bits=server_max_window_bits,
        compress_settings=dict(_COMPRESS_SETTINGS),
    )


def server_negotiate(
    header_values: Sequence[str], compression: str | None
) -> tuple[str, PerMessageDeflate] | None:
    """
    Pick the first acceptable permessage-deflate offer among the request headers.

    Return the ``Sec-WebSocket-Extensions`` response header and the codec, or :obj:`None` when
    compression is disabled or no offer is acceptable; other extensions are declined.

    Raises:
        InvalidHeaderFormat: If a header can't be parsed.
    """
    if not _enabled(compression) or not header_values:
        return None
    for name, params in _parse(header_values):
        if name == NAME:
            with contextlib.suppress(NegotiationError):
                response_params, extension = _answer_offer(params)
                return build_extension([(NAME, response_params)]), extension
    return None
