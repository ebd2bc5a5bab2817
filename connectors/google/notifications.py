"""Business Profile notifications over Pub/Sub push: authenticating a push, reading it, and
setting up an account's notification topic (``mybusinessnotifications`` v1).

Pub/Sub signs each push with an OIDC token from Google; it is checked against the keys
published at the JWKS URL (signature), and for the audience and issuer plaudit expects.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from google.oauth2.credentials import Credentials

from connectors.base import Limiter
from connectors.google.client import discovery_client
from connectors.google.reviews import GoogleReviews
from core.settings import get_settings

# The notification types the reviews capability declares (the only pushed one).
REVIEW_TYPES: tuple[str, ...] = GoogleReviews.push.topics if GoogleReviews.push else ()


class PushRefused(Exception):
    """The push is not from Google, not for us, or not readable. The message is safe to show."""


@lru_cache(maxsize=4)
def _keys(jwks_url: str) -> jwt.PyJWKClient:
    # Keys are cached (and refetched when a token names an unknown key id).
    return jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600, timeout=10)


def verify_push(authorization: str | None) -> dict[str, Any]:
    """The token's claims, if Google signed it for us; raises PushRefused otherwise."""
    settings = get_settings()
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise PushRefused("a Bearer token is required")
    if not settings.google_pubsub_audience:
        raise PushRefused("push is not configured (no audience)")
    try:
        key = _keys(settings.google_pubsub_jwks_url).get_signing_key_from_jwt(token)
        return jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=settings.google_pubsub_audience,
            issuer=settings.google_pubsub_issuer,
            options={"require": ["exp", "iat", "aud", "iss"]},
        )
    except jwt.PyJWKClientConnectionError:
        raise PushRefused("the signing keys could not be fetched") from None
    except jwt.PyJWTError as exc:
        raise PushRefused(f"the token is not valid: {type(exc).__name__}") from None


@dataclass(frozen=True)
class ReviewNotification:
    type: str
    location: str  # "locations/{l}": Google may or may not put the account in front


def review_notification(envelope: Any) -> ReviewNotification | None:
    """A NEW_REVIEW/UPDATED_REVIEW notification from a push body; None for other types."""
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("data"), str):
        raise PushRefused("the push has no message data")
    try:
        data = json.loads(base64.b64decode(message["data"]))
    except (ValueError, binascii.Error):
        raise PushRefused("the message data is not base64-encoded JSON") from None
    if not isinstance(data, dict):
        raise PushRefused("the message data is not a JSON object")
    kind = data.get("type") or data.get("notificationType")
    if kind not in REVIEW_TYPES:
        return None
    name = _first(data, "location", "locationName", "location_name") or _first(
        data, "review", "reviewName", "review_name"
    )
    if not name or "locations/" not in name:
        raise PushRefused("the notification names no location")
    location_id = name.split("locations/", 1)[1].split("/", 1)[0]
    return ReviewNotification(kind, f"locations/{location_id}")


def _first(data: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        if isinstance(data.get(key), str) and data[key]:
            return data[key]
    return None


class NotificationSettings:
    """Point an account's review notifications at plaudit's Pub/Sub topic."""

    def __init__(self, creds: Credentials, *, limiter: Limiter | None = None) -> None:
        self.api, self.client = discovery_client(
            "mybusinessnotifications",
            creds,
            get_settings().google_notifications_url,
            limiter=limiter,
        )

    def enable(self, account: str, topic: str) -> bool:
        name = f"{account}/notificationSetting"
        request = self.api.accounts().updateNotificationSetting(
            name=name,
            updateMask="pubsubTopic,notificationTypes",
            body={"name": name, "pubsubTopic": topic, "notificationTypes": list(REVIEW_TYPES)},
        )
        answer = self.client.send(request, write=True)
        return answer.get("pubsubTopic") == topic
