"""Request dependencies as ``Annotated`` aliases: the session, the caller and role checks.

A caller is a person (``Authorization: Bearer <JWT>``) or an integration (``X-API-Key``). Both
become a ``Scope`` (services/scope.py), resolved once per request by ``authenticate``: the
organisation they act in, the role they act with, the locations they are limited to, and who
acts — the person, or the key. The role checks below all build on that one dependency.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.schemas.common import SafeText
from core.errors import Forbidden, Unauthorized
from models import Membership, RefreshToken, Role, User
from models.db import session_scope
from services.accounts.tokens import InvalidToken, decode_token
from services.scope import Scope, limit_of
from services.team import api_keys


def _session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error answer instead of a success the database never saw. Messages queued with
# enqueue_after_commit go out on that commit.
SessionDep = Annotated[Session, Depends(_session, scope="function")]

# The `next_cursor` of the previous page (services.pagination).
CursorParam = Annotated[SafeText | None, Query(max_length=500)]

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login")
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key from /api/v1/api-keys"
)


def _unauthorized(code: str, message: str) -> Unauthorized:
    challenge = "Bearer" if code == "unauthorized" else f'Bearer error="{code}"'
    return Unauthorized(code, message, headers={"WWW-Authenticate": challenge})


@dataclass(frozen=True)
class Credentials:
    """What the caller presented, not yet checked against the database."""

    bearer: str | None
    api_key: str | None


async def _credentials(
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Credentials:
    return Credentials(bearer.credentials if bearer else None, api_key or None)


# For a route that checks them itself, inside its own session (see ``authenticate``).
CallerCredentials = Annotated[Credentials, Depends(_credentials)]


def _current_scope(session: SessionDep, credentials: CallerCredentials) -> Scope:
    return authenticate(session, credentials)


def authenticate(session: Session, credentials: Credentials) -> Scope:
    """The scope of a bearer token or an API key, or a 401."""
    if credentials.bearer is None and credentials.api_key:
        return api_keys.authenticate(session, key=credentials.api_key)
    if credentials.bearer is None:
        raise _unauthorized("unauthorized", "Authentication required")
    try:
        claims = decode_token(credentials.bearer)
    except InvalidToken:
        raise _unauthorized("invalid_token", "The access token is invalid or has expired") from None
    # The role and the location limit are read on every request, so a removed or re-limited
    # member is held to it at once; a token of a logged-out session stops working at once too
    # (one index probe in the same statement).
    query = select(Membership.role, Membership.location_ids).where(
        Membership.user_id == claims.user_id,
        Membership.organisation_id == claims.organisation_id,
    )
    if claims.session_id is not None:
        query = query.where(
            ~exists().where(
                RefreshToken.family_id == claims.session_id, RefreshToken.revoked_at.is_not(None)
            )
        )
    row = session.execute(query).one_or_none()
    if row is None:
        raise _unauthorized("invalid_token", "The access token is no longer valid")
    role, location_ids = row.tuple()
    return Scope(
        user_id=claims.user_id,
        organisation_id=claims.organisation_id,
        role=Role(role),
        session_id=claims.session_id,
        location_ids=limit_of(location_ids),
    )


CurrentScope = Annotated[Scope, Depends(_current_scope)]


async def _person(scope: CurrentScope) -> Scope:
    if scope.api_key_id is not None:
        raise Forbidden("person_required", "This needs a person's access token, not an API key")
    return scope


# Routes about a person's own account, and managing keys: an API key can never reach them.
PersonScope = Annotated[Scope, Depends(_person)]


def _current_user(scope: CurrentScope, session: SessionDep) -> User:
    # Memberships cascade from users, so the caller's user exists (for a key: its creator).
    user = session.get(User, scope.user_id)
    assert user is not None
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


def _at_least(scope: Scope, minimum: Role) -> Scope:
    if not scope.role.at_least(minimum):
        raise Forbidden("forbidden", f"This needs the {minimum.value} role or higher")
    return scope


def require_role(minimum: Role) -> Callable[[Scope], Awaitable[Scope]]:
    """A dependency that lets through callers with ``minimum`` or a higher role."""

    # No I/O here: as a coroutine it skips a thread-pool round trip per request.
    async def check(scope: CurrentScope) -> Scope:
        return _at_least(scope, minimum)

    return check


def require_person_role(minimum: Role) -> Callable[[Scope], Awaitable[Scope]]:
    """Like ``require_role``, for a person only: API keys are refused."""

    async def check(scope: PersonScope) -> Scope:
        return _at_least(scope, minimum)

    return check


OwnerScope = Annotated[Scope, Depends(require_role(Role.OWNER))]
AdminScope = Annotated[Scope, Depends(require_role(Role.ADMIN))]
ManagerScope = Annotated[Scope, Depends(require_role(Role.MANAGER))]
ResponderScope = Annotated[Scope, Depends(require_role(Role.RESPONDER))]
AdminPerson = Annotated[Scope, Depends(require_person_role(Role.ADMIN))]
