"""Connecting provider accounts (the OAuth round trip) and asking for syncs.

The callback only records the code: exchanging it means calling the provider, which belongs in
a worker (`workers.sync.finish_connection`), not in a browser's request.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from connectors.facebook import oauth as facebook_oauth
from connectors.google import oauth as google_oauth
from connectors.providers import BY_PROVIDER
from core.errors import BadRequest, Conflict, NotFound
from core.settings import get_settings
from models import (
    CapabilityState,
    Connection,
    ConnectionStatus,
    Location,
    OAuthState,
    Provider,
    SyncRun,
)
from services.jobs import send_after_commit
from services.scope import Scope, get_in_scope, in_scope
from services.sync.schedule import claim_sync

STATE_TTL = timedelta(minutes=10)
# What token_urlsafe produces; anything else cannot be one of ours and is not even queried.
_STATE = re.compile(r"[A-Za-z0-9_-]{1,100}")

# (state, redirect_uri) -> (consent URL, PKCE verifier), for each provider that can be connected.
_AUTHORIZERS: dict[str, Callable[..., tuple[str, str]]] = {
    Provider.GOOGLE: google_oauth.authorization_url,
    Provider.FACEBOOK: facebook_oauth.authorization_url,
}


def _require_provider(provider: str) -> None:
    if provider not in _AUTHORIZERS:
        raise NotFound(
            "Provider", code="unknown_provider", message="This provider cannot be connected"
        )


def start_authorization(
    session: Session,
    *,
    provider: str,
    scope: Scope,
    redirect_after: str | None,
) -> tuple[str, str]:
    """The consent URL and its state; the state and PKCE verifier stay server-side."""
    _require_provider(provider)
    state = secrets.token_urlsafe(32)
    redirect_uri = get_settings().oauth_callback_url(provider)
    url, code_verifier = _AUTHORIZERS[provider](state=state, redirect_uri=redirect_uri)
    session.add(
        OAuthState(
            state=state,
            organisation_id=scope.organisation_id,
            user_id=scope.user_id,
            provider=provider,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            redirect_after=redirect_after,
            expires_at=datetime.now(UTC) + STATE_TTL,
        )
    )
    return url, state


def claim_state(session: Session, *, provider: str, state: str | None) -> OAuthState:
    """The pending OAuth state, locked so that two callbacks cannot both use it."""
    _require_provider(provider)
    oauth_state = None
    if state and _STATE.fullmatch(state):
        oauth_state = session.scalar(
            select(OAuthState)
            .where(OAuthState.state == state, OAuthState.provider == provider)
            .with_for_update()
        )
    if (
        oauth_state is None
        or oauth_state.connection_id is not None
        or oauth_state.expires_at <= datetime.now(UTC)
    ):
        raise BadRequest(
            "invalid_state",
            "This authorization link is unknown, expired or already used; start again",
            field="state",
        )
    return oauth_state


def open_connection(
    session: Session, *, oauth_state: OAuthState, code: str, granted_scopes: str | None
) -> Connection:
    """A connection in `connecting`, with the code handed to the worker that finishes it."""
    connection = Connection(
        organisation_id=oauth_state.organisation_id,
        provider=oauth_state.provider,
        status=ConnectionStatus.CONNECTING,
        scopes=[],
        capabilities={},
    )
    session.add(connection)
    session.flush()
    oauth_state.code = code
    oauth_state.granted_scopes = granted_scopes
    oauth_state.connection_id = connection.id
    send_after_commit(session, "connect.finish", oauth_state.state)
    return connection


def list_connections(session: Session, *, scope: Scope) -> list[tuple[Connection, int]]:
    query = select(Connection, _LOCATION_COUNT).where(*in_scope(Connection, scope))
    return [(c, n) for c, n in session.execute(query.order_by(Connection.id)).tuples()]


def get_connection(session: Session, *, scope: Scope, connection_id: int) -> Connection:
    return get_in_scope(session, scope, Connection, connection_id, what="Connection")


def location_count(session: Session, *, connection: Connection) -> int:
    """How many of the connection's locations are active."""
    active = select(func.count(Location.id)).where(
        Location.connection_id == connection.id, Location.active.is_(True)
    )
    return session.scalar(active) or 0


def disconnect(session: Session, *, scope: Scope, connection_id: int) -> Connection:
    """Stop using a connection: its tokens go at once; its data goes after the retention
    period for disconnected connections (30 days by default)."""
    connection = get_connection(session, scope=scope, connection_id=connection_id)
    connection.status, connection.status_message = ConnectionStatus.DISCONNECTED, None
    connection.access_token = connection.refresh_token = None
    connection.next_sync_at = None
    session.execute(
        update(Location).where(Location.connection_id == connection.id).values(access_token=None)
    )
    return connection


def request_sync(
    session: Session, *, scope: Scope, connection_id: int
) -> tuple[Connection, list[str]]:
    """Enqueue a sync of each capability the connection still has, and claim it as the
    scheduler does, so that one request is one run however long the message waits."""
    connection = get_connection(session, scope=scope, connection_id=connection_id)
    if connection.status != ConnectionStatus.ACTIVE:
        message = _NOT_SYNCABLE.get(connection.status, "The connection cannot sync now")
        raise Conflict("connection_not_active", message)
    capabilities = [
        capability
        for capability in BY_PROVIDER.get(connection.provider, ())
        if connection.capability_state(capability) == CapabilityState.AVAILABLE
    ]
    claim_sync(connection, datetime.now(UTC))
    for capability in capabilities:
        send_after_commit(session, "sync.capability", connection.id, capability)
    return connection, capabilities


def sync_runs(
    session: Session, *, scope: Scope, connection_id: int, limit: int, before_id: int | None
) -> tuple[list[SyncRun], bool]:
    """The connection's runs, newest first (one walk of the ``(connection_id, id)`` index)."""
    get_connection(session, scope=scope, connection_id=connection_id)
    query = select(SyncRun).where(SyncRun.connection_id == connection_id)
    if before_id is not None:
        query = query.where(SyncRun.id < before_id)
    rows = list(session.scalars(query.order_by(SyncRun.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


_NOT_SYNCABLE = {
    ConnectionStatus.CONNECTING: "The connection is still being set up",
    ConnectionStatus.NEEDS_REAUTH: "The connection must be reconnected before it can sync",
    ConnectionStatus.DISCONNECTED: "The connection is disconnected",
}


_LOCATION_COUNT = (
    select(func.count(Location.id))
    .where(Location.connection_id == Connection.id, Location.active.is_(True))
    .correlate(Connection)
    .scalar_subquery()
)
