"""API keys: created by admins for integrations, shown once, found by their SHA-256.

A key's role is the highest its scopes grant (read: viewer, reply: responder, admin: admin),
capped by the current role of the person who created it: a key never outranks its creator, sees
only the locations its creator is limited to, and stops working when the creator leaves the
organisation.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.errors import Forbidden, Invalid, Unauthorized
from models import ApiKey, Membership, Role
from models import Scope as KeyScope
from services.accounts.tokens import secret_hash
from services.scope import Scope, get_in_scope, in_scope, limit_of

_ROLE_OF_SCOPE = {
    KeyScope.READ: Role.VIEWER,
    KeyScope.REPLY: Role.RESPONDER,
    KeyScope.ADMIN: Role.ADMIN,
}
# last_used_at is a hint for people, not an access log: write it at most this often.
_LAST_USED_RESOLUTION = timedelta(minutes=1)
_PREFIX = "plk_"


def create(
    session: Session,
    *,
    scope: Scope,
    name: str,
    scopes: Sequence[KeyScope],
    expires_at: datetime | None,
) -> tuple[ApiKey, str]:
    """The stored key and the key itself, which is never available again; created by the
    person of ``scope``, with at most their role."""
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise Invalid("invalid", "The expiry must be in the future", field="expires_at")
    granted = _role_of(scopes)
    if not scope.role.at_least(granted):
        raise Forbidden("forbidden", "A key cannot have scopes above your own role", field="scopes")
    prefix = _PREFIX + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        organisation_id=scope.organisation_id,
        created_by_user_id=scope.user_id,
        name=name,
        prefix=prefix,
        key_hash=secret_hash(key),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    session.add(api_key)
    session.flush()
    return api_key, key


def list_keys(session: Session, *, scope: Scope) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(*in_scope(ApiKey, scope)).order_by(ApiKey.id)))


def revoke(session: Session, *, scope: Scope, key_id: int) -> ApiKey:
    api_key = get_in_scope(session, scope, ApiKey, key_id, what="API key")
    if api_key.revoked_at is None:
        api_key.revoked_at = datetime.now(UTC)
    return api_key


def authenticate(session: Session, *, key: str) -> Scope:
    now = datetime.now(UTC)
    row = session.execute(
        select(ApiKey, Membership.role, Membership.location_ids)
        .join(
            Membership,
            (Membership.user_id == ApiKey.created_by_user_id)
            & (Membership.organisation_id == ApiKey.organisation_id),
        )
        .where(ApiKey.key_hash == secret_hash(key), ApiKey.revoked_at.is_(None))
    ).one_or_none()
    if row is None or (row[0].expires_at is not None and row[0].expires_at <= now):
        raise Unauthorized(
            "invalid_api_key",
            "The API key is invalid, revoked or expired",
            headers={"WWW-Authenticate": "X-API-Key"},
        )
    api_key, creator_role, creator_locations = row.tuple()
    if api_key.last_used_at is None or api_key.last_used_at < now - _LAST_USED_RESOLUTION:
        session.execute(update(ApiKey).where(ApiKey.id == api_key.id).values(last_used_at=now))
    granted = _role_of(api_key.scopes)
    creator = Role(creator_role)
    return Scope(
        user_id=api_key.created_by_user_id or 0,
        organisation_id=api_key.organisation_id,
        role=granted if creator.at_least(granted) else creator,
        api_key_id=api_key.id,
        location_ids=limit_of(creator_locations),
    )


def _role_of(scopes: Sequence[str]) -> Role:
    return max((_ROLE_OF_SCOPE[KeyScope(s)] for s in scopes), key=lambda role: role.rank)
