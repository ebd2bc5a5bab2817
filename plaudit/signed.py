"""Signed tokens for links and addresses sent by e-mail: feedback pages, unsubscribe, reply-to.

A token is ``base64url(json).base64url(hmac)``; the HMAC covers a purpose label too, so a token
made for one purpose is refused for another. The key is derived from the JWT secret under its own
label, so no extra secret has to be configured and the two uses never share a key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from plaudit.settings import get_settings


class BadToken(Exception):
    """The token was not made by us (forged, truncated or for another purpose)."""


class ExpiredToken(BadToken):
    """The token was made by us but its lifetime is over."""


def _key() -> bytes:
    secret = get_settings().jwt_secret.get_secret_value().encode()
    return hmac.new(secret, b"plaudit signed links v1", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(purpose: str, body: str) -> str:
    digest = hmac.new(_key(), f"{purpose}.{body}".encode(), hashlib.sha256).digest()
    return _b64(digest[:16])  # 128 bits: plenty against forgery, short enough for a URL


def sign(purpose: str, payload: dict[str, Any], *, ttl_seconds: int | None = None) -> str:
    data = dict(payload)
    if ttl_seconds is not None:
        data["exp"] = int(time.time()) + ttl_seconds
    body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(purpose, body)}"


def verify(purpose: str, token: str) -> dict[str, Any]:
    body, _, mac = token.partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _mac(purpose, body)):
        raise BadToken(purpose)
    try:
        data = json.loads(_unb64(body))
    except ValueError:
        raise BadToken(purpose) from None
    if not isinstance(data, dict):
        raise BadToken(purpose)
    if "exp" in data and data["exp"] < time.time():
        raise ExpiredToken(purpose)
    return data
