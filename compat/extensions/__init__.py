"""WebSocket extensions: the interfaces of extensions and factories, and permessage-deflate."""

from .base import ClientExtensionFactory, Extension, ServerExtensionFactory

__all__ = ["ClientExtensionFactory", "Extension", "ServerExtensionFactory"]
