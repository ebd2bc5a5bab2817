"""Request dependencies as ``Annotated`` aliases: the session, the caller and role checks.

A caller is a person (``Authorization: Bearer <JWT>``) or an integration (``X-API-Key``). Both
become a ``Member``: the organisation they act in, the role they act with and the locations they
are limited to (api/scope.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from api.errors import ApiError
from api.security import InvalidToken, decode_token
from models import Membership, RefreshToken, Role, User
from models.db import session_scope


def _session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# scope="function": the commit happens before the response is sent, so a failed commit is an
# error answer instead of a success the database never saw. Messages queued with
# enqueue_after_commit go out on that commit.
SessionDep = Annotated[Session, Depends(_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="An access token from /api/v1/auth/login")
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key from /api/v1/api-keys"
)


@dataclass(frozen=True)
class Member:
    """The caller, in the organisation their token or key was issued for."""

    user_id: int  # for a key: the person who created it
    organisation_id: int
    role: Role
    api_key_id: int | None = None
    session_id: str | None = None  # a person's log-in session (refresh-token family)
    # None: every location of the organisation; for a key: its creator's limit.
    location_ids: tuple[int, ...] | None = None


def _unauthorized(code: str, message: str) -> ApiError:
    challenge = "Bearer" if code == "unauthorized" else f'Bearer error="{code}"'
    return ApiError(401, code, message, headers={"WWW-Authenticate": challenge})


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


def _current_member(session: SessionDep, credentials: CallerCredentials) -> Member:
    return authenticate(session, credentials)


def authenticate(session: Session, credentials: Credentials) -> Member:
    """The member behind a bearer token or an API key, or a 401."""
    if credentials.bearer is None and credentials.api_key:
        from api.services.api_keys import authenticate as key_member  # it imports Member

        return key_member(session, key=credentials.api_key)
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
    return Member(
        user_id=claims.user_id,
        organisation_id=claims.organisation_id,
        role=Role(role),
        session_id=claims.session_id,
        location_ids=limit_of(location_ids),
    )


def limit_of(location_ids: list[int] | None) -> tuple[int, ...] | None:
    """A membership's stored limit as a caller carries it."""
    return None if location_ids is None else tuple(location_ids)


CurrentMember = Annotated[Member, Depends(_current_member)]


async def _person(member: CurrentMember) -> Member:
    if member.api_key_id is not None:
        raise ApiError(403, "person_required", "This needs a person's access token, not an API key")
    return member


# Routes about a person's own account, and managing keys: an API key can never reach them.
PersonMember = Annotated[Member, Depends(_person)]


def _current_user(member: CurrentMember, session: SessionDep) -> User:
    # Memberships cascade from users, so the member's user exists (for a key: its creator).
    user = session.get(User, member.user_id)
    assert user is not None
    return user


CurrentUser = Annotated[User, Depends(_current_user)]


def _at_least(member: Member, minimum: Role) -> Member:
    if not member.role.at_least(minimum):
        raise ApiError(403, "forbidden", f"This needs the {minimum.value} role or higher")
    return member


def require_role(minimum: Role) -> Callable[[Member], Awaitable[Member]]:
    """A dependency that lets through members with ``minimum`` or a higher role."""

    # No I/O here: as a coroutine it skips a thread-pool round trip per request.
    async def check(member: CurrentMember) -> Member:
        return _at_least(member, minimum)

    return check


def require_person_role(minimum: Role) -> Callable[[Member], Awaitable[Member]]:
    """Like ``require_role``, for a person only: API keys are refused."""

    async def check(member: PersonMember) -> Member:
        return _at_least(member, minimum)

    return check


OwnerMember = Annotated[Member, Depends(require_role(Role.OWNER))]
AdminMember = Annotated[Member, Depends(require_role(Role.ADMIN))]
ManagerMember = Annotated[Member, Depends(require_role(Role.MANAGER))]
ResponderMember = Annotated[Member, Depends(require_role(Role.RESPONDER))]
AdminPerson = Annotated[Member, Depends(require_person_role(Role.ADMIN))]
