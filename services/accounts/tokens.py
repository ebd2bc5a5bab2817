"""Access tokens (HS256 JWTs) and opaque one-time secrets (refresh tokens, API keys, e-mailed
links)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from core.settings import get_settings

_ALGORITHM = "HS256"


def new_secret() -> str:
    """A random URL-safe secret (256 bits) for refresh tokens, API keys and e-mailed links."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """How a high-entropy secret is stored and looked up: a plain SHA-256 is enough (nothing to
    brute-force in 256 random bits) and, unlike argon2, can be indexed."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    organisation_id: int
    # The refresh-token family (log-in session) the token belongs to; revoking it ends the token.
    session_id: str | None = None


class InvalidToken(Exception):
    """The token is malformed, badly signed, expired or lacks our claims."""


def issue_token(
    *, user_id: int, organisation_id: int, session_id: str | None = None
) -> tuple[str, int]:
    """An access token and its lifetime in seconds."""
    settings = get_settings()
    now = datetime.now(UTC)
    ttl = settings.jwt_ttl_seconds
    claims = {
        "sub": str(user_id),  # RFC 7519: the subject is a string
        "org": organisation_id,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
    }
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=_ALGORITHM), ttl


def decode_token(token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token,
            get_settings().jwt_secret.get_secret_value(),
            algorithms=[_ALGORITHM],
            options={"require": ["exp", "sub", "org"]},
        )
        user_id, organisation_id = int(claims["sub"]), claims["org"]
        session_id = claims.get("sid")
    except (jwt.PyJWTError, ValueError) as exc:
        raise InvalidToken from exc
    if not isinstance(organisation_id, int) or isinstance(organisation_id, bool):
        raise InvalidToken
    if session_id is not None and not isinstance(session_id, str):
        raise InvalidToken
    return TokenClaims(user_id=user_id, organisation_id=organisation_id, session_id=session_id)
