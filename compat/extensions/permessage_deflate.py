"""
The permessage-deflate extension (RFC 7692): its negotiation and its codec, without any I/O.

The factories take websockets' parameters and negotiate exactly as websockets' do. The ones
``compression="deflate"`` adds are websockets' defaults too, so that a compat peer offers,
accepts and answers what a websockets peer would:

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
make the receiver produce more than that limit. Compressors and decompressors are created when
a message needs one, so that idle connections hold none.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

from .. import exceptions
from ..exceptions import NegotiationError, PayloadTooBig, ProtocolError
from ..frames import CONT, CTRL_OPCODES, Frame
from ..typing import BytesLike, ExtensionName, ExtensionParameter
from .base import ClientExtensionFactory, Extension, ServerExtensionFactory

Factory = TypeVar("Factory", ClientExtensionFactory, ServerExtensionFactory)

__all__ = [
    "ClientPerMessageDeflateFactory",
    "PerMessageDeflate",
    "ServerPerMessageDeflateFactory",
    "enable_client_permessage_deflate",
    "enable_server_permessage_deflate",
]

NAME = ExtensionName("permessage-deflate")

_EMPTY_UNCOMPRESSED_BLOCK = b"\x00\x00\xff\xff"

# Below this size, appending the block to the input is cheaper than a second decompress() call.
_INLINE_BLOCK_LIMIT = 2044

_MAX_WINDOW_BITS_VALUES = frozenset(str(bits) for bits in range(8, 16))

_ZLIB_WINDOW_BITS = 15

# Parameters of the factories compression="deflate" adds.
_DEFAULT_MAX_WINDOW_BITS = 12
_DEFAULT_COMPRESS_SETTINGS = {"memLevel": 5}


def _keep_arguments(obj: object, arguments: dict[str, Any]) -> None:
    """Keep a constructor's arguments (its ``locals()``) as attributes of the same names."""
    vars(obj).update((name, value) for name, value in arguments.items() if name != "self")


def _flags(obj: object) -> list[Any]:
    """The ``*_no_context_takeover`` attributes of ``obj``."""
    return [value for name, value in vars(obj).items() if name.endswith("_no_context_takeover")]


# What repr() shows of an extension.
_REPR_ATTRIBUTES = (
    "remote_no_context_takeover",
    "local_no_context_takeover",
    "remote_max_window_bits",
    "local_max_window_bits",
)


class PerMessageDeflate(Extension):
    """
    Compress and decompress the data frames of one connection with negotiated parameters.

    ``remote_*`` parameters apply to what the peer sends, ``local_*`` ones to what we send.
    Connections that negotiated nothing else call :meth:`decode_frame` and :meth:`encode_frame`
    directly; :meth:`decode` and :meth:`encode` apply them to frames, among other extensions.
    """

    name = NAME

    # The constructor's arguments, kept as they are given (compress_settings: {} for None).
    remote_no_context_takeover: bool
    local_no_context_takeover: bool
    remote_max_window_bits: int
    local_max_window_bits: int
    compress_settings: dict[Any, Any]

    def __init__(
        self,
        remote_no_context_takeover: bool,
        local_no_context_takeover: bool,
        remote_max_window_bits: int,
        local_max_window_bits: int,
        compress_settings: dict[Any, Any] | None = None,
    ) -> None:
        compress_settings = {} if compress_settings is None else compress_settings
        _keep_arguments(self, locals())
        assert all(flag in (False, True) for flag in _flags(self))
        # zlib can't compress with a window of 8 bits.
        assert 8 <= remote_max_window_bits <= 15 and 9 <= local_max_window_bits <= 15
        assert "wbits" not in compress_settings
        # Created when a message starts; dropped when it ends without context takeover.
        self._decoder: zlib._Decompress | None = None
        self._encoder: zlib._Compress | None = None
        # Whether decode() is inside a compressed message, whose continuation frames it inflates.
        self._inflating = False

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)}" for name in _REPR_ATTRIBUTES)
        return f"PerMessageDeflate({shown})"

    def decode_frame(self, data: BytesLike, *, fin: bool, max_size: int | None) -> bytes:
        """
        Decompress one frame of a compressed message.

        ``max_size`` is what is left of the message's size limit, if any.

        Raises:
            PayloadTooBig: If the frame decompresses to more than ``max_size``.
            ProtocolError: If the data isn't a valid deflate stream.
        """
        decoder = self._decoder
        if decoder is None:
            decoder = self._decoder = zlib.decompressobj(wbits=-self.remote_max_window_bits)
        # zlib reads a max_length of 0 as unlimited, so ask for 1 byte when none is left.
        max_length = 0 if max_size is None else max(max_size, 1)
        inline = fin and len(data) < _INLINE_BLOCK_LIMIT
        try:
            output = decoder.decompress(
                bytes(data) + _EMPTY_UNCOMPRESSED_BLOCK if inline else data, max_length
            )
            too_big = max_size is not None and (
                bool(decoder.unconsumed_tail) or len(output) > max_size
            )
            if fin and not inline and not too_big:
                # Flushing may release output that the limit held back.
                held = decoder.decompress(_EMPTY_UNCOMPRESSED_BLOCK, 0 if max_size is None else 1)
                too_big = max_size is not None and bool(held)
                output += held
        except zlib.error as exc:
            raise ProtocolError("decompression failed") from exc
        if too_big:
            assert max_size is not None
            raise PayloadTooBig(None, max_size)
        self._inflating = not fin
        if fin and self.remote_no_context_takeover:
            self._decoder = None
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

    def decode(self, frame: Frame, *, max_size: int | None = None) -> Frame:
        """Inflate the frames of compressed messages, whose first frame has RSV1 set."""
        if frame.opcode in CTRL_OPCODES:
            return frame
        if frame.opcode == CONT:
            if not self._inflating:
                return frame
            if frame.rsv1:
                raise ProtocolError("RSV1 bit set in continuation frame")
        elif not frame.rsv1:
            return frame
        data = self.decode_frame(frame.data, fin=frame.fin, max_size=max_size)
        # A frame of the caller's class, in case it isn't compat's.
        return type(frame)(frame.opcode, data, frame.fin, False, frame.rsv2, frame.rsv3)

    def encode(self, frame: Frame) -> Frame:
        """Deflate every data frame, setting RSV1 on the first frame of each message."""
        if frame.opcode in CTRL_OPCODES:
            return frame
        data = self.encode_frame(frame.data, fin=frame.fin)
        return type(frame)(
            frame.opcode, data, frame.fin, frame.opcode != CONT, frame.rsv2, frame.rsv3
        )


def as_native(extension: Any) -> Any:
    """
    Return compat's codec in place of another implementation's permessage-deflate extension.

    Extensions get compat's frames, whose opcodes are compat's own: another library's
    permessage-deflate, which tells continuation frames by its library's opcodes, couldn't
    decode them, so compat compresses with the parameters it negotiated instead. Any other
    extension is returned as is.
    """
    if isinstance(extension, Extension) or getattr(extension, "name", None) != NAME:
        return extension
    try:
        return PerMessageDeflate(
            extension.remote_no_context_takeover,
            extension.local_no_context_takeover,
            extension.remote_max_window_bits,
            extension.local_max_window_bits,
            extension.compress_settings,
        )
    except AttributeError:
        return extension


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
        window_bits: dict[str, int | Literal[True]] = {}
        for name, value in params:
            if name not in _PARAMETER_NAMES:
                raise exceptions.InvalidParameterName(name)
            if name in flags or name in window_bits:
                raise exceptions.DuplicateParameter(name)
            if name.endswith("_no_context_takeover"):
                if value is not None:
                    raise exceptions.InvalidParameterValue(name, value)
                flags.add(name)
            elif value is None and offer and name == "client_max_window_bits":
                window_bits[name] = True
            elif value is not None and value in _MAX_WINDOW_BITS_VALUES:
                window_bits[name] = int(value)
            else:
                raise exceptions.InvalidParameterValue(name, value)
        server_bits = window_bits.get("server_max_window_bits")
        assert server_bits is not True
        return cls(
            server_no_context_takeover="server_no_context_takeover" in flags,
            client_no_context_takeover="client_no_context_takeover" in flags,
            server_max_window_bits=server_bits,
            client_max_window_bits=window_bits.get("client_max_window_bits"),
        )


_PARAMETER_NAMES = frozenset(field.name for field in dataclasses.fields(_Parameters))


def _check_bits(name: str, bits: int | None, *, lowest: int) -> None:
    """Refuse a window size zlib can't use on that side (``lowest`` to 15 bits)."""
    if bits is not None and not lowest <= bits <= 15:
        raise ValueError(f"{name} must be between {lowest} and 15")


def _check_compress_settings(settings: dict[str, Any] | None, window_setting: str) -> None:
    """Refuse a window size given through zlib's settings rather than ``window_setting``."""
    if settings is not None and "wbits" in settings:
        raise ValueError(f"compress_settings must not include wbits, set {window_setting} instead")


def _with_default(
    extensions: Sequence[Factory] | None, default: Callable[[], Factory]
) -> Sequence[Factory]:
    """``extensions``, then a default permessage-deflate factory unless they hold one."""
    given: list[Factory] = [] if extensions is None else list(extensions)
    if any(factory.name == NAME for factory in given):
        return extensions if extensions is not None else given
    given.append(default())
    return given


def _reject_duplicate(accepted_extensions: Sequence[Extension], error: str) -> None:
    """Refuse a second permessage-deflate: it would compress the same messages twice."""
    if any(extension.name == NAME for extension in accepted_extensions):
        raise NegotiationError(f"{error} {NAME}")


class ClientPerMessageDeflateFactory(ClientExtensionFactory):
    """
    What a client offers for permessage-deflate (RFC 7692, section 7.1).

    A ``*_no_context_takeover`` flag asks that side to reset its compressor after each message.
    ``server_max_window_bits`` (8 to 15) caps the server's window; ``client_max_window_bits`` is
    :obj:`True` to let the server pick the client's window, 9 to 15 to cap it (zlib can't
    compress with 8 bits), or :obj:`None` to leave it out. ``compress_settings`` are passed to
    :func:`zlib.compressobj`, except ``wbits``, which the window bits set.
    """

    name = NAME

    # The constructor's arguments, kept as they are given.
    server_no_context_takeover: bool
    client_no_context_takeover: bool
    server_max_window_bits: int | None
    client_max_window_bits: int | Literal[True] | None
    compress_settings: dict[str, Any] | None

    def __init__(
        self,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int | None = None,
        client_max_window_bits: int | Literal[True] | None = True,
        compress_settings: dict[str, Any] | None = None,
    ) -> None:
        _check_bits("server_max_window_bits", server_max_window_bits, lowest=8)
        if client_max_window_bits is not True:
            _check_bits("client_max_window_bits", client_max_window_bits, lowest=9)
        _check_compress_settings(compress_settings, "client_max_window_bits")
        _keep_arguments(self, locals())

    def get_request_params(self) -> Sequence[ExtensionParameter]:
        """The offer: the configured parameters."""
        return _Parameters(
            server_no_context_takeover=bool(self.server_no_context_takeover),
            client_no_context_takeover=bool(self.client_no_context_takeover),
            server_max_window_bits=self.server_max_window_bits,
            client_max_window_bits=self.client_max_window_bits,
        ).build()

    def process_response_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> PerMessageDeflate:
        """
        Check that the server's answer honours the offer; configure the extension with it.

        Raises:
            NegotiationError: If the answer is invalid, contradicts the offer, or repeats
                permessage-deflate.
        """
        _reject_duplicate(accepted_extensions, "received duplicate")
        answer = _Parameters.parse(params, offer=False)
        if self.server_no_context_takeover and not answer.server_no_context_takeover:
            raise NegotiationError("expected server_no_context_takeover")
        server_bits = answer.server_max_window_bits
        if self.server_max_window_bits is not None:
            if server_bits is None:
                raise NegotiationError("expected server_max_window_bits")
            if server_bits > self.server_max_window_bits:
                raise NegotiationError("unsupported server_max_window_bits")
        client_bits = _answered_client_bits(
            self.client_max_window_bits, answer.client_max_window_bits
        )
        return PerMessageDeflate(
            remote_no_context_takeover=answer.server_no_context_takeover,
            local_no_context_takeover=(
                answer.client_no_context_takeover or bool(self.client_no_context_takeover)
            ),
            remote_max_window_bits=server_bits or _ZLIB_WINDOW_BITS,
            local_max_window_bits=client_bits or _ZLIB_WINDOW_BITS,
            compress_settings=self.compress_settings,
        )


def _answered_client_bits(
    offered: int | Literal[True] | None, answered: int | Literal[True] | None
) -> int | None:
    """
    The client's window once the server answered an offer of ``client_max_window_bits``.

    Offered without a value (True), the server picks any window or none; with a cap, the server
    may lower it or leave it out, keeping the cap; not offered, the server can't set it.
    """
    assert answered is not True
    cap = None if offered is True else offered
    if offered is None and answered is not None:
        raise NegotiationError("unexpected client_max_window_bits")
    if cap is not None and answered is not None and answered > cap:
        raise NegotiationError("unsupported client_max_window_bits")
    bits = cap if answered is None else answered
    if bits == 8:
        raise NegotiationError("unsupported client_max_window_bits = 8, use 9")
    return bits


def enable_client_permessage_deflate(
    extensions: Sequence[ClientExtensionFactory] | None,
) -> Sequence[ClientExtensionFactory]:
    """
    Add the default client permessage-deflate factory after ``extensions``.

    A permessage-deflate factory among ``extensions`` is kept, with its settings, instead.
    """
    return _with_default(
        extensions,
        lambda: ClientPerMessageDeflateFactory(compress_settings=dict(_DEFAULT_COMPRESS_SETTINGS)),
    )


class ServerPerMessageDeflateFactory(ServerExtensionFactory):
    """
    How a server answers an offer of permessage-deflate (RFC 7692, section 7.1).

    A ``*_no_context_takeover`` flag makes that side reset its compressor after each message,
    whatever the client asked. ``server_max_window_bits`` (9 to 15; zlib can't compress with 8
    bits) and ``client_max_window_bits`` (8 to 15) cap the windows; the client's cap applies if
    the client supports it, unless ``require_client_max_window_bits``, which declines offers
    without it. ``compress_settings`` are passed to :func:`zlib.compressobj`, except ``wbits``.
    """

    name = NAME

    # The constructor's arguments, kept as they are given.
    server_no_context_takeover: bool
    client_no_context_takeover: bool
    server_max_window_bits: int | None
    client_max_window_bits: int | None
    compress_settings: dict[str, Any] | None
    require_client_max_window_bits: bool

    def __init__(
        self,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int | None = None,
        client_max_window_bits: int | None = None,
        compress_settings: dict[str, Any] | None = None,
        require_client_max_window_bits: bool = False,
    ) -> None:
        _check_bits("server_max_window_bits", server_max_window_bits, lowest=9)
        _check_bits("client_max_window_bits", client_max_window_bits, lowest=8)
        _check_compress_settings(compress_settings, "server_max_window_bits")
        if client_max_window_bits is None and require_client_max_window_bits:
            raise ValueError(
                "require_client_max_window_bits is enabled, "
                "but client_max_window_bits isn't configured"
            )
        _keep_arguments(self, locals())

    def process_request_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> tuple[list[ExtensionParameter], PerMessageDeflate]:
        """
        Answer the client's offer within the configured limits; configure the extension.

        Raises:
            NegotiationError: If the offer is invalid, can't be met, or repeats
                permessage-deflate; the offer is then declined.
        """
        _reject_duplicate(accepted_extensions, "skipped duplicate")
        offer = _Parameters.parse(params, offer=True)
        server_bits = offer.server_max_window_bits
        limit = self.server_max_window_bits
        if limit is not None:
            server_bits = limit if server_bits is None else min(server_bits, limit)
        if server_bits == 8:
            raise NegotiationError("unsupported server_max_window_bits = 8, use 9")
        client_bits = offer.client_max_window_bits
        if client_bits is True:
            # The client lets the server pick its window: the configured cap, if any.
            client_bits = self.client_max_window_bits
        elif self.client_max_window_bits is not None:
            if client_bits is not None:
                client_bits = min(client_bits, self.client_max_window_bits)
            elif self.require_client_max_window_bits:
                raise NegotiationError("required client_max_window_bits")
        answer = _Parameters(
            server_no_context_takeover=(
                offer.server_no_context_takeover or bool(self.server_no_context_takeover)
            ),
            client_no_context_takeover=(
                offer.client_no_context_takeover or bool(self.client_no_context_takeover)
            ),
            server_max_window_bits=server_bits,
            client_max_window_bits=client_bits,
        )
        return answer.build(), PerMessageDeflate(
            remote_no_context_takeover=answer.client_no_context_takeover,
            local_no_context_takeover=answer.server_no_context_takeover,
            remote_max_window_bits=client_bits or _ZLIB_WINDOW_BITS,
            local_max_window_bits=server_bits or _ZLIB_WINDOW_BITS,
            compress_settings=self.compress_settings,
        )


def enable_server_permessage_deflate(
    extensions: Sequence[ServerExtensionFactory] | None,
) -> Sequence[ServerExtensionFactory]:
    """
    Add the default server permessage-deflate factory after ``extensions``.

    A permessage-deflate factory among ``extensions`` is kept, with its settings, instead.
    """
    return _with_default(
        extensions,
        lambda: ServerPerMessageDeflateFactory(
            server_max_window_bits=_DEFAULT_MAX_WINDOW_BITS,
            client_max_window_bits=_DEFAULT_MAX_WINDOW_BITS,
            compress_settings=dict(_DEFAULT_COMPRESS_SETTINGS),
        ),
    )
