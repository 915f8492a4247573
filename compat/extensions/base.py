"""The interfaces of WebSocket extensions and of the factories that negotiate them.

A factory takes part in the opening handshake: a client factory offers parameters and reads the
server's answer, a server factory reads an offer and answers it. Each negotiation that succeeds
gives an :class:`Extension`, which then transforms every frame of the connection. Connections
only call these methods, so any object providing them works, subclass or not.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..frames import Frame
from ..typing import ExtensionName, ExtensionParameter

__all__ = ["ClientExtensionFactory", "Extension", "ServerExtensionFactory"]


class Extension:
    """An extension negotiated for one connection."""

    #: Name of the extension, as in the ``Sec-WebSocket-Extensions`` header.
    name: ExtensionName

    def decode(self, frame: Frame, *, max_size: int | None = None) -> Frame:
        """
        Return the frame the peer meant from a frame as received.

        Extensions decode in the reverse order of negotiation; every frame goes through them,
        control frames included, and its reserved bits must all be unset at the end.
        ``max_size`` is what is left of the message's size limit, if any.

        Raises:
            PayloadTooBig: If the decoded payload would exceed ``max_size``.
            ProtocolError: If the frame is invalid for the extension.
        """
        raise NotImplementedError

    def encode(self, frame: Frame) -> Frame:
        """Return the frame to send in place of ``frame``; extensions encode in order."""
        raise NotImplementedError


class ClientExtensionFactory:
    """What a client offers for one extension, and how it takes the server's answer."""

    #: Name of the extension, as in the ``Sec-WebSocket-Extensions`` header.
    name: ExtensionName

    def get_request_params(self) -> Sequence[ExtensionParameter]:
        """The parameters of the offer, in the request's ``Sec-WebSocket-Extensions``."""
        raise NotImplementedError

    def process_response_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> Extension:
        """
        Accept the server's parameters for this extension and return it, configured.

        ``accepted_extensions`` are the extensions accepted before this one in the response.

        Raises:
            NegotiationError: If this factory can't take these parameters; the client then
                tries its next factory with the same name.
        """
        raise NotImplementedError


class ServerExtensionFactory:
    """How a server answers a client's offer of one extension."""

    #: Name of the extension, as in the ``Sec-WebSocket-Extensions`` header.
    name: ExtensionName

    def process_request_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> tuple[list[ExtensionParameter], Extension]:
        """
        Answer an offer: the parameters to send back and the extension, configured.

        ``accepted_extensions`` are the extensions accepted before this offer.

        Raises:
            NegotiationError: To decline the offer; the server then tries its next factory
                with the same name, and declines the offer if none accepts it.
        """
        raise NotImplementedError
