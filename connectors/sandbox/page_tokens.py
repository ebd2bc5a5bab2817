"""Opaque, tamper-evident page tokens.

A token carries the list it belongs to and the sort key of the last item already returned
(keyset paging), so a page boundary does not shift when reviews are added, edited or deleted
between calls: every item that stays put is listed exactly once. The payload is masked and
MAC'd so clients cannot parse or forge tokens, as with Google's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

_MAC_BYTES = 8


class InvalidPageToken(ValueError):
    pass


class PageTokenCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def encode(self, scope: str, position: list[int]) -> str:
        body = json.dumps([scope, position], separators=(",", ":")).encode()
        mac = hmac.new(self._secret, body, hashlib.sha256).digest()[:_MAC_BYTES]
        raw = mac + _xor(body, self._keystream(mac, len(body)))
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def decode(self, scope: str, token: str) -> list[int]:
        """The position inside `scope`; a token minted for another list is rejected."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError) as exc:
            raise InvalidPageToken(token) from exc
        mac, masked = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        body = _xor(masked, self._keystream(mac, len(masked)))
        expected = hmac.new(self._secret, body, hashlib.sha256).digest()[:_MAC_BYTES]
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, expected):
            raise InvalidPageToken(token)
        token_scope, position = json.loads(body)
        if token_scope != scope:
            raise InvalidPageToken(token)
        return position

    def _keystream(self, nonce: bytes, length: int) -> bytes:
        blocks = []
        for counter in range(0, length, 32):
            block = hashlib.sha256(self._secret + nonce + counter.to_bytes(4, "big")).digest()
            blocks.append(block)
        return b"".join(blocks)[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    mixed = int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")
    return mixed.to_bytes(len(data), "big")
