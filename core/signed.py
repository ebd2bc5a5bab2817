"""Signed tokens for links and addresses sent by e-mail: feedback pages, unsubscribe, reply-to.

Tokens are itsdangerous's URL-safe signed JSON, salted with their purpose so that a token made
for one purpose is refused for another. The key is derived from the JWT secret under its own
label, so no extra secret has to be configured and the two uses never share a key. An expiry,
where there is one, travels in the payload (`exp`), because lifetimes differ per token.

Links sent before tokens were made by itsdangerous (a hand-made format) are still honoured:
unsubscribe links and reply-to addresses in e-mails already delivered never expire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from core.settings import get_settings


class BadToken(Exception):
    """The token was not made by us (forged, truncated or for another purpose)."""


class ExpiredToken(BadToken):
    """The token was made by us but its lifetime is over."""


def _key() -> bytes:
    secret = get_settings().jwt_secret.get_secret_value().encode()
    return hmac.new(secret, b"plaudit signed links v1", hashlib.sha256).digest()


def _serializer(purpose: str) -> URLSafeSerializer:
    # SHA-1 HMAC (itsdangerous's default) keeps a reply-to address within 64 characters.
    return URLSafeSerializer(_key(), salt=f"plaudit.{purpose}")


def sign(purpose: str, payload: dict[str, Any], *, ttl_seconds: int | None = None) -> str:
    data = dict(payload)
    if ttl_seconds is not None:
        data["exp"] = int(time.time()) + ttl_seconds
    return str(_serializer(purpose).dumps(data))


def verify(purpose: str, token: str) -> dict[str, Any]:
    try:
        data = _serializer(purpose).loads(token)
    except BadSignature:
        data = _legacy(purpose, token)
    if not isinstance(data, dict):
        raise BadToken(purpose)
    if "exp" in data and data["exp"] < time.time():
        raise ExpiredToken(purpose)
    return data


def _legacy(purpose: str, token: str) -> Any:
    """``base64url(json).base64url(hmac-sha256(purpose.body)[:16])``, as signed until 2026-12."""
    body, _, mac = token.partition(".")
    digest = hmac.new(_key(), f"{purpose}.{body}".encode(), hashlib.sha256).digest()[:16]
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    if not body or not mac or not hmac.compare_digest(mac, expected):
        raise BadToken(purpose)
    try:
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        raise BadToken(purpose) from None
