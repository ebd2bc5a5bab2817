"""Password strength (zxcvbn) and hashing (argon2id)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from core.errors import Invalid
from core.settings import get_settings


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
