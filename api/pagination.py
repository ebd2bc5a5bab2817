"""Opaque keyset cursors: the last row's sort key, signed.

A cursor is urlsafe base64 of a small JSON array — the list it belongs to (``kind``, which for
the inbox includes the sort order) followed by the sort key's values — and an HMAC of it. Clients
cannot craft positions, and a tampered, truncated or foreign cursor is a clear 400 rather than a
silently different page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from api.errors import ApiError
from plaudit.settings import get_settings

_SIGNATURE_BYTES = 16
T = TypeVar("T")


def encode_cursor(kind: str, values: Sequence[Any]) -> str:
    payload = _b64encode(json.dumps([kind, *values], separators=(",", ":")))
    return f"{payload}.{_b64encode(_sign(payload))}"


def decode_cursor(kind: str, cursor: str, parse: Callable[[list[Any]], T]) -> T:
    """The position in ``cursor``, checked and turned into typed values by ``parse`` (which
    raises ValueError, TypeError or KeyError on anything unexpected)."""
    payload, _, signature = cursor.partition(".")
    try:
        if not hmac.compare_digest(_b64decode(signature), _sign(payload)):
            raise ValueError
        decoded = json.loads(_b64decode(payload))
        if not isinstance(decoded, list) or not decoded or decoded[0] != kind:
            raise ValueError
        return parse(decoded[1:])
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise invalid_cursor() from None


def invalid_cursor() -> ApiError:
    return ApiError(
        400, "invalid_cursor", "The cursor is invalid; start again without it", field="cursor"
    )


def _sign(payload: str) -> bytes:
    # A purpose prefix keeps this MAC distinct from anything else signed with the same secret.
    key = get_settings().jwt_secret.get_secret_value().encode()
    message = b"plaudit-cursor:" + payload.encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _b64encode(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def strict_int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError
    return value
