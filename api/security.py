"""Password strength (zxcvbn) and hashing (argon2id), access tokens (HS256 JWTs) and opaque
one-time secrets."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from core.errors import Invalid
from core.settings import get_settings

_ALGORITHM = "HS256"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2-cffi's defaults are argon2id with the RFC 9106 low-memory parameters.
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("plaudit-dummy-password")


# zxcvbn's matching grows with the length; a strong start makes a strong password, and a weak
# one ("aaaa…" of any length) shows within the first characters as much as in all of them.
_STRENGTH_PREFIX = 72


def require_strong_password(password: str, *, field: str, user_inputs: Sequence[str] = ()) -> None:
    """NIST SP 800-63B: at least ten characters (the schemas), and not a common, breached,
    repeated or sequential password, nor one made of the person's own address or names. zxcvbn
    matches against its frequency lists of common and breached passwords, names and words, and
    detects repeats, sequences, keyboard patterns and dates. 422 naming ``field`` with the
    reason; the message never holds the password."""
    result = zxcvbn(password[:_STRENGTH_PREFIX], user_inputs=[u for u in user_inputs if u])
    if result["score"] >= get_settings().password_min_score:
        return
    feedback = result["feedback"]
    reason = feedback["warning"] or next(iter(feedback["suggestions"]), "")
    raise Invalid(
        "weak_password",
        "This password is too easy to guess" + (f": {reason}" if reason else ""),
        field=field,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_verification(password: str) -> None:
    """Spend the time a verification takes, so an unknown e-mail is not faster to reject."""
    verify_password(_dummy_hash(), password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


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
