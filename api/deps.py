"""Request dependencies as ``Annotated`` aliases: the session, the caller and role checks.

A caller is a person (``Authorization: Bearer <JWT>``) or an integration (``X-API-Key``). Both
become a ``Scope`` (services/scope.py), resolved once per request by ``authenticate``: the
organisation they act in, the role they act with, the locations they are limited to, and who
acts — the person, or the key. The role checks below all build on that one dependency.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import ColumnElement, Row, Select, Subquery, exists, literal, select, true
from sqlalchemy.orm import Session

from api.schemas.common import SafeText
from core.errors import Forbidden, Unauthorized
from models import Membership, RefreshToken, Role, User
from models.db import read, session_scope
from services.accounts.tokens import InvalidToken, TokenClaims, decode_token
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
    claims = _claims(credentials.bearer)
    row = session.execute(_membership(claims)).one_or_none()
    if row is None:
        raise _no_longer_valid(claims)
    return _scope_of(claims, row.role, row.location_ids)


def _claims(bearer: str) -> TokenClaims:
    try:
        return decode_token(bearer)
    except InvalidToken:
        raise _unauthorized("invalid_token", "The access token is invalid or has expired") from None


def _membership(claims: TokenClaims) -> Select[Any]:
    """The caller's role and location limit: no row if the membership is gone or the token's
    session was logged out. Read on every request, so a removed or re-limited member is held to
    it at once, and a logged-out session's token stops working at once (one index probe)."""
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
    return query


def _scope_of(claims: TokenClaims, role: str, location_ids: list[int] | None) -> Scope:
    return Scope(
        user_id=claims.user_id,
        organisation_id=claims.organisation_id,
        role=Role(role),
        session_id=claims.session_id,
        location_ids=limit_of(location_ids),
    )


def _no_longer_valid(claims: TokenClaims) -> Unauthorized:
    _seen.forget(claims)
    return _unauthorized("invalid_token", "The access token is no longer valid")


class _SeenScopes:
    """The scope each recent log-in session last had: a guess to build a statement with before
    the caller is checked, never trusted on its own (``read_as_caller`` checks it in the very
    statement it shapes). Bounded; per process."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._scopes: OrderedDict[tuple[int, int, str | None], Scope] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(claims: TokenClaims) -> tuple[int, int, str | None]:
        return claims.user_id, claims.organisation_id, claims.session_id

    def get(self, claims: TokenClaims) -> Scope | None:
        with self._lock:
            return self._scopes.get(self._key(claims))

    def remember(self, claims: TokenClaims, scope: Scope) -> None:
        with self._lock:
            self._scopes[self._key(claims)] = scope
            self._scopes.move_to_end(self._key(claims))
            while len(self._scopes) > self._size:
                self._scopes.popitem(last=False)

    def forget(self, claims: TokenClaims) -> None:
        with self._lock:
            self._scopes.pop(self._key(claims), None)


_seen = _SeenScopes()
R = TypeVar("R")


def read_as_caller(
    credentials: Credentials,
    *,
    statement: Callable[[Scope], Select[Any]],
    order: Callable[[Subquery], list[ColumnElement[Any]]],
    answer: Callable[[Scope, list[Row[Any]]], R],
) -> R:
    """``answer(scope, rows)`` of a read-only ``statement(scope)``, checking the caller in the
    same round trip: one statement, one snapshot, no transaction to commit.

    A person's request is built for the scope their session had on its last request, and the
    statement carries the caller's check beside its rows (``order`` puts them back in the
    statement's order, given it as a subquery). If the check finds the membership gone or the
    session logged out, the answer is a 401 whatever the cache held; if it finds another role or
    location limit, the statement runs again for the scope it found. A first request, and an API
    key (whose check records when it was used), take the check and the statement in turn."""
    if credentials.bearer is None:
        with session_scope() as session:
            scope = authenticate(session, credentials)
            return answer(scope, list(session.execute(statement(scope))))
    claims = _claims(credentials.bearer)

    def work(session: Session) -> tuple[Scope, list[Row[Any]]]:
        guess = _seen.get(claims)
        if guess is None:
            scope = authenticate(session, credentials)
            return scope, list(session.execute(statement(scope)))
        rows = list(session.execute(_checked(statement(guess), claims, order)))
        first = rows[0]
        if first.caller_role is None:
            raise _no_longer_valid(claims)
        scope = _scope_of(claims, first.caller_role, first.caller_location_ids)
        if scope != guess:
            return scope, list(session.execute(statement(scope)))
        return scope, [row for row in rows if row.id is not None]

    scope, rows = read(work)
    _seen.remember(claims, scope)
    return answer(scope, rows)


def _checked(
    statement: Select[Any],
    claims: TokenClaims,
    order: Callable[[Subquery], list[ColumnElement[Any]]],
) -> Select[Any]:
    """One row of the caller's check (NULLs if it fails) joined to every row of ``statement``
    (one row of NULLs if it has none)."""
    caller = _membership(claims).subquery("caller")
    rows = statement.subquery("page")
    one = select(literal(1).label("one")).subquery("one")
    return (
        select(
            caller.c.role.label("caller_role"),
            caller.c.location_ids.label("caller_location_ids"),
            *rows.c,
        )
        .select_from(one)
        .outerjoin(caller, true())
        .outerjoin(rows, true())
        .order_by(*order(rows))
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
