"""Opaque keyset cursors, one style for every list: the last row's sort key, signed.

A cursor is an ``itsdangerous`` URL-safe signed token holding the sort key's values as JSON. The
list it belongs to (``kind``: for the inbox including the sort order, for a connection's sync
runs the connection) is the signature's salt, so a cursor of one list is refused by another.
Clients cannot craft positions, and a tampered, truncated or foreign cursor is a clear 400 naming
``cursor`` rather than a silently different page. A next-page cursor is only given when a next
page exists: lists read one row more than they return to know.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from itsdangerous import BadData, URLSafeSerializer

from core.errors import BadRequest
from core.settings import get_settings

T = TypeVar("T")


class _HasId(Protocol):
    id: int


def encode_cursor(kind: str, values: Sequence[Any]) -> str:
    return _serializer(kind).dumps(list(values))


def decode_cursor(kind: str, cursor: str, parse: Callable[[list[Any]], T]) -> T:
    """The position in ``cursor``, checked and turned into typed values by ``parse`` (which
    raises ValueError, TypeError or KeyError on anything unexpected)."""
    try:
        values = _serializer(kind).loads(cursor)
        if not isinstance(values, list) or not values:
            raise ValueError
        return parse(values)
    except (BadData, ValueError, TypeError, KeyError):
        raise invalid_cursor() from None


def before_id(kind: str, cursor: str | None) -> int | None:
    """For lists by id, newest first: the id the page starts below (None: the first page)."""
    return _last_id(kind, cursor)


def after_id(kind: str, cursor: str | None) -> int | None:
    """For lists by id, oldest first: the id the page starts above (None: the first page)."""
    return _last_id(kind, cursor)


def next_by_id(kind: str, rows: Sequence[_HasId], *, has_more: bool) -> str | None:
    """The cursor of the page after ``rows`` (a list by id, either way), only if there is one."""
    return encode_cursor(kind, [rows[-1].id]) if has_more and rows else None


def _last_id(kind: str, cursor: str | None) -> int | None:
    if not cursor:
        return None
    return decode_cursor(kind, cursor, lambda values: strict_int(*values))


def invalid_cursor() -> BadRequest:
    return BadRequest(
        "invalid_cursor", "The cursor is invalid; start again without it", field="cursor"
    )


def strict_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError
    return value


def _serializer(kind: str) -> URLSafeSerializer:
    # The purpose prefix keeps these signatures distinct from anything else signed with the
    # same secret; the kind keeps each list's cursors its own.
    return URLSafeSerializer(
        get_settings().jwt_secret.get_secret_value(),
        salt=f"plaudit-cursor:{kind}",
        signer_kwargs={"digest_method": hashlib.sha256},
    )
