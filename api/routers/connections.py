"""Connecting provider accounts, listing connections and asking for a sync."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from api import audit
from api.deps import AdminScope, CurrentScope, CursorParam, ManagerScope, SessionDep
from api.errors import ErrorResponse
from api.schemas.common import Id, SafeText
from api.schemas.connections import (
    AuthorizeIn,
    AuthorizeOut,
    ConnectionEnvelope,
    ConnectionList,
    ConnectionOut,
    ConnectionWarning,
    SyncOut,
    SyncRunError,
    SyncRunOut,
    SyncRunPage,
)
from core.errors import BadRequest
from core.redirects import safe_redirect
from models import Connection, SyncRun
from services import pagination
from services.sync import connections
from services.sync.warnings import connection_warnings

router = APIRouter(prefix="/connections", tags=["connections"])

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "No such connection here"}}
_UNKNOWN_PROVIDER = {404: {"model": ErrorResponse, "description": "Unsupported provider"}}
# The provider's error and scope parameters are short tokens; bound what we store or echo.
_ProviderToken = Annotated[SafeText | None, Query(max_length=2000)]


@router.post(
    "/{provider}/authorize",
    summary="Start connecting a provider account (admin)",
    responses=_UNKNOWN_PROVIDER,
)
def authorize(
    provider: str,
    scope: AdminScope,
    session: SessionDep,
    request: Request,
    body: AuthorizeIn | None = None,
) -> AuthorizeOut:
    url, state = connections.start_authorization(
        session,
        provider=provider,
        scope=scope,
        redirect_after=body.redirect_after if body else None,
    )
    audit.record(
        session,
        request=request,
        scope=scope,
        action="connection.authorization_started",
        details={"provider": provider},
    )
    return AuthorizeOut(authorization_url=url, state=state)


@router.get(
    "/{provider}/callback",
    summary="Where the provider sends the browser back (no token: the state is the credential)",
    response_model=ConnectionEnvelope,
    responses={
        303: {
            "description": "Redirect to `redirect_after?connection_id=N`, or to "
            "`redirect_after?error=access_denied` when the person refused"
        },
        400: {"model": ErrorResponse, "description": "Bad or spent state, or access denied"},
        **_UNKNOWN_PROVIDER,
    },
)
def callback(
    provider: str,
    session: SessionDep,
    request: Request,
    state: _ProviderToken = None,
    code: _ProviderToken = None,
    scope: _ProviderToken = None,
    error: _ProviderToken = None,
) -> Response | ConnectionEnvelope:
    oauth_state = connections.claim_state(session, provider=provider, state=state)
    if error is not None:
        # The person said no: spend the state for good, even though the answer is an error.
        back = oauth_state.redirect_after
        session.delete(oauth_state)
        session.commit()
        if back and _still_ours(back):
            # Back to the app that asked, which tells the person, rather than a JSON page.
            target = _with_query(back, error="access_denied")
            return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
        raise BadRequest("access_denied", "Access was not granted at the provider")
    if not code:
        raise BadRequest("invalid_request", "The provider sent no authorization code", field="code")
    connection = connections.open_connection(
        session, oauth_state=oauth_state, code=code, granted_scopes=scope
    )
    audit.record_person(
        session,
        request=request,
        user_id=oauth_state.user_id,
        organisation_id=connection.organisation_id,
        action="connection.created",
        target_type="connection",
        target_id=connection.id,
        details={"provider": provider},
    )
    if oauth_state.redirect_after and _still_ours(oauth_state.redirect_after):
        target = _with_query(oauth_state.redirect_after, connection_id=connection.id)
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    return ConnectionEnvelope(connection=_out(connection, location_count=0))


@router.get("", summary="The organisation's connections")
def list_connections(scope: CurrentScope, session: SessionDep) -> ConnectionList:
    rows = connections.list_connections(session, scope=scope)
    return ConnectionList(connections=[_out(c, location_count=n) for c, n in rows])


@router.get("/{connection_id}", summary="One connection", responses=_NOT_FOUND)
def get_connection(connection_id: Id, scope: CurrentScope, session: SessionDep) -> ConnectionOut:
    connection = connections.get_connection(session, scope=scope, connection_id=connection_id)
    return _out(
        connection, location_count=connections.location_count(session, connection=connection)
    )


@router.post(
    "/{connection_id}/sync",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Sync this connection now (manager)",
    responses={
        **_NOT_FOUND,
        409: {"model": ErrorResponse, "description": "The connection is not active"},
    },
)
def sync(connection_id: Id, scope: ManagerScope, session: SessionDep, request: Request) -> SyncOut:
    connection, enqueued = connections.request_sync(
        session, scope=scope, connection_id=connection_id
    )
    audit.record(
        session,
        request=request,
        scope=scope,
        action="connection.sync_requested",
        target_type="connection",
        target_id=connection.id,
        details={"capabilities": enqueued},
    )
    location_count = connections.location_count(session, connection=connection)
    return SyncOut(connection=_out(connection, location_count=location_count), enqueued=enqueued)


@router.get(
    "/{connection_id}/sync-runs",
    summary="The connection's recent sync runs, newest first",
    responses={
        **_NOT_FOUND,
        400: {"model": ErrorResponse, "description": "The cursor is invalid"},
    },
)
def list_sync_runs(
    connection_id: Id,
    scope: CurrentScope,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorParam = None,
) -> SyncRunPage:
    kind = f"sync-runs:{connection_id}"  # a cursor of one connection's list is not another's
    before_id = pagination.before_id(kind, cursor)
    rows, has_more = connections.sync_runs(
        session,
        scope=scope,
        connection_id=connection_id,
        limit=limit,
        before_id=before_id,
    )
    return SyncRunPage(
        sync_runs=[_run_out(run) for run in rows],
        next_cursor=pagination.next_by_id(kind, rows, has_more=has_more),
    )


@router.delete(
    "/{connection_id}",
    summary="Disconnect: tokens are deleted now, the data after the retention period (admin)",
    responses=_NOT_FOUND,
)
def disconnect(
    connection_id: Id, scope: AdminScope, session: SessionDep, request: Request
) -> ConnectionOut:
    connection = connections.disconnect(session, scope=scope, connection_id=connection_id)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="connection.disconnected",
        target_type="connection",
        target_id=connection.id,
    )
    return _out(connection, location_count=0)


def _out(connection: Connection, *, location_count: int) -> ConnectionOut:
    return ConnectionOut(
        id=connection.id,
        provider=connection.provider,
        status=connection.status,
        needs_reauth=connection.needs_reauth,
        status_message=connection.status_message,
        account_label=connection.account_label,
        scopes=connection.scopes,
        capabilities=connection.capabilities,
        last_synced_at=connection.last_synced_at,
        next_sync_at=connection.next_sync_at,
        location_count=location_count,
        created_at=connection.created_at,
        warnings=[
            ConnectionWarning(code=w.code, message=w.message, ends_on=w.ends_on)
            for w in connection_warnings(connection)
        ],
    )


def _still_ours(target: str) -> bool:
    # Checked again: the state may predate a change of the allowed origins.
    try:
        safe_redirect(target)
    except ValueError:
        return False
    return True


def _run_out(run: SyncRun) -> SyncRunOut:
    # The stored errors keep the provider's message for operators' logs; the API shows only
    # the class, which cannot carry provider text or a token.
    errors = [
        SyncRunError(error_class=str(e.get("type", "Error")), location=e.get("location"))
        for e in run.errors
    ]
    return SyncRunOut(
        id=run.id,
        capability=run.capability,
        location_id=run.location_id,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        resumes_at=run.resumes_at,
        duration_ms=run.duration_ms,
        requests=run.requests,
        fetched=run.fetched,
        written=run.written,
        skipped=run.skipped,
        deleted=run.deleted,
        rate_limit_waits=run.rate_limit_waits,
        reconciled=run.reconciled,
        error_class=run.error_class,
        errors=errors,
    )


def _with_query(url: str, **params: object) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(key, str(value)) for key, value in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))
