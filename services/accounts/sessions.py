"""Log-in sessions: a short-lived access token and a refresh token that rotates on every use.

The tokens of one log-in form a family (the access token's ``sid``). Logging out revokes the
family; logging out everywhere revokes every family of the person. A refresh token presented a
second time was copied: its whole family is revoked, the thief's and the owner's alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.errors import Unauthorized
from core.settings import get_settings
from models import Membership, RefreshToken
from services.accounts.tokens import issue_token, new_secret, secret_hash
from services.scope import Scope


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str


def start(session: Session, *, user_id: int, organisation_id: int) -> TokenPair:
    return _issue(
        session, user_id=user_id, organisation_id=organisation_id, family_id=uuid.uuid4().hex
    )


def start_for(session: Session, *, scope: Scope) -> TokenPair:
    """A new log-in session for the person acting, in the scope's organisation (after a change
    of password has ended their others)."""
    return start(session, user_id=scope.user_id, organisation_id=scope.organisation_id)


def rotate(session: Session, *, refresh_token: str) -> TokenPair:
    token = session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == secret_hash(refresh_token))
        .with_for_update()
    )
    now = datetime.now(UTC)
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise _invalid()
    if token.used_at is not None:
        # Committed before the error, which would otherwise roll the revocation back.
        _revoke_families(session, RefreshToken.family_id == token.family_id)
        session.commit()
        raise _invalid()
    still_member = session.scalar(
        select(Membership.id).where(
            Membership.user_id == token.user_id,
            Membership.organisation_id == token.organisation_id,
        )
    )
    if still_member is None:
        raise _invalid()
    token.used_at = now
    return _issue(
        session,
        user_id=token.user_id,
        organisation_id=token.organisation_id,
        family_id=token.family_id,
    )


def end(session: Session, *, user_id: int, session_id: str | None) -> None:
    """Log out of one session (the one the access token belongs to)."""
    if session_id is not None:
        _revoke_families(
            session, RefreshToken.user_id == user_id, RefreshToken.family_id == session_id
        )


def end_all(session: Session, *, user_id: int) -> int:
    """Log out everywhere; returns how many refresh tokens were still live."""
    return _revoke_families(session, RefreshToken.user_id == user_id)


def _revoke_families(session: Session, *conditions: object) -> int:
    result = session.execute(
        update(RefreshToken)
        .where(*conditions, RefreshToken.revoked_at.is_(None))  # type: ignore[arg-type]
        .values(revoked_at=datetime.now(UTC))
    )
    return result.rowcount


def _issue(session: Session, *, user_id: int, organisation_id: int, family_id: str) -> TokenPair:
    ttl = get_settings().refresh_token_ttl_seconds
    refresh = new_secret()
    session.add(
        RefreshToken(
            user_id=user_id,
            organisation_id=organisation_id,
            family_id=family_id,
            token_hash=secret_hash(refresh),
            expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
        )
    )
    access, expires_in = issue_token(
        user_id=user_id, organisation_id=organisation_id, session_id=family_id
    )
    return TokenPair(
        access_token=access,
        expires_in=expires_in,
        refresh_token=refresh,
        refresh_expires_in=ttl,
        session_id=family_id,
    )


def _invalid() -> Unauthorized:
    return Unauthorized(
        "invalid_refresh_token",
        "The refresh token is invalid, expired or already used; log in again",
        field="refresh_token",
    )
