"""Encryption at rest and keyed look-ups.

Values are encrypted with Fernet under the first configured key and stored as
``<key id>:<token>``; every configured key can decrypt, so keys rotate without downtime, and the
key id tells which rows still need an old key (`plaudit keys status`). E-mail addresses are found
through a blind index (HMAC-SHA256 under a separate key) because ciphertexts are not comparable.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from core.settings import get_settings


class DecryptionError(Exception):
    """A stored value could not be decrypted; the message names the key it needs."""


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    primary: str
    fernets: dict[str, Fernet]


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    raw = get_settings().encryption_keys.get_secret_value()
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    return Keyring(primary=key_id(keys[0]), fernets={key_id(k): Fernet(k) for k in keys})


def encrypt(plaintext: str) -> str:
    ring = keyring()
    return f"{ring.primary}:{ring.fernets[ring.primary].encrypt(plaintext.encode()).decode()}"


def decrypt(stored: str, *, where: str = "value") -> str:
    kid, _, token = stored.partition(":")
    fernet = keyring().fernets.get(kid)
    if fernet is None:
        raise DecryptionError(f"cannot decrypt {where}: key {kid} is not configured")
    try:
        return fernet.decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(f"cannot decrypt {where}: invalid token for key {kid}") from None


def blind_index(value: str) -> str:
    key = get_settings().blind_index_key.get_secret_value().encode()
    return hmac.new(key, normalise_email(value).encode(), hashlib.sha256).hexdigest()


def normalise_email(value: str) -> str:
    return value.strip().lower()


def new_key() -> str:
    return Fernet.generate_key().decode()


def reset_keys() -> None:
    keyring.cache_clear()
