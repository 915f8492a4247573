"""HTTP headers: a case-insensitive multi-dict, as in ``websockets.datastructures``."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Protocol

from .exceptions import InvalidHeaderValue

__all__ = ["Headers", "HeadersLike", "MultipleValuesError", "SupportsKeysAndGetItem"]


class MultipleValuesError(LookupError):
    """Raised by ``headers[name]`` when the header occurs more than once."""

    def __str__(self) -> str:
        # Like KeyError: show the missing key with its repr.
        return repr(self.args[0]) if len(self.args) == 1 else super().__str__()


# HTAB, SP, VCHAR and obs-text: what a header value may contain (no CR, LF or other controls).
_valid_value = re.compile(r"[\x09\x20-\x7e\x80-\xff]*").fullmatch


class Headers(MutableMapping[str, str]):
    """
    HTTP headers: names are case-insensitive and may occur several times.

    ``headers[name]`` returns the value, raises :exc:`KeyError` if there is none and
    :exc:`MultipleValuesError` if there are several; ``headers[name] = value`` adds a value;
    ``del headers[name]`` removes all values. :meth:`get_all` and :meth:`raw_items` give every
    value. Non-ASCII values are carried as ISO-8859-1, and values with control characters are
    rejected with :exc:`~compat.exceptions.InvalidHeaderValue` to prevent header injection.
    """

    __slots__ = ["_dict", "_list"]

    # Values by lower-cased name, and every (name, value) pair in order with names as given.
    _dict: dict[str, list[str]]
    _list: list[tuple[str, str]]

    def __init__(self, *args: HeadersLike, **kwargs: str) -> None:
        self.clear()
        self.update(*args, **kwargs)

    def __getitem__(self, key: str) -> str:
        values = self._dict[key.lower()]
        if len(values) > 1:
            raise MultipleValuesError(key)
        return values[0]

    def __setitem__(self, key: str, value: str) -> None:
        if _valid_value(str(value)) is None:
            raise InvalidHeaderValue(key, value)
        self.set_insecure(key, value)

    def __delitem__(self, key: str) -> None:
        lower = key.lower()
        del self._dict[lower]
        self._list = [(name, value) for name, value in self._list if name.lower() != lower]

    def __iter__(self) -> Iterator[str]:
        yield from self._dict

    def __len__(self) -> int:
        return len(self._dict)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._dict

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return self._dict == other._dict

    def __str__(self) -> str:
        lines = [f"{name}: {value}\r\n" for name, value in self._list]
        return "".join([*lines, "\r\n"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"

    def serialize(self) -> bytes:
        """Return the header block as sent on the wire, in ISO-8859-1."""
        return str(self).encode("iso-8859-1")

    def copy(self) -> Headers:
        """Return an independent copy."""
        other = type(self)()
        other._dict = {name: values.copy() for name, values in self._dict.items()}
        other._list = self._list.copy()
        return other

    def clear(self) -> None:
        """Remove all headers."""
        self._dict = {}
        self._list = []

    def update(self, *args: HeadersLike, **kwargs: str) -> None:
        """Add the values of a :class:`Headers`, a mapping, pairs, and/or keyword arguments."""
        pairs = (arg.raw_items() if isinstance(arg, Headers) else arg for arg in args)
        super().update(*pairs, **kwargs)

    def get_all(self, key: str) -> list[str]:
        """Return the (possibly empty) list of values of the header ``key``."""
        return self._dict.get(key.lower(), [])

    def raw_items(self) -> Iterator[tuple[str, str]]:
        """Return an iterator of every ``(name, value)`` pair, in order, names as given."""
        return iter(self._list)

    def set_insecure(self, key: str, value: str) -> None:
        """Add a value without checking it for unsafe characters."""
        # Interned: the same few names are held by every connection's request and response.
        self._dict.setdefault(sys.intern(key.lower()), []).append(value)
        self._list.append((key, value))


class SupportsKeysAndGetItem(Protocol):
    """Dict-like types with ``keys()`` and ``__getitem__`` over :class:`str`."""

    def keys(self) -> Iterable[str]: ...

    def __getitem__(self, key: str) -> str: ...


HeadersLike = Headers | Mapping[str, str] | Iterable[tuple[str, str]] | SupportsKeysAndGetItem
"""Types accepted where :class:`Headers` is expected."""
