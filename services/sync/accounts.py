"""Opening a connection's provider account for a job, and saving what the job changed."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from connectors.account import LocationRef, ProviderAccount, Tokens
from connectors.providers import ACCOUNTS
from models import CapabilityState, Connection, ConnectionStatus, Location
from services.sync.limits import limiter_for
from services.webhooks.emit import emit


def open_account(connection: Connection, *, today: date | None = None) -> ProviderAccount:
    """``today``: the day date-bound capabilities are judged by (None: today, UTC)."""
    account_class = ACCOUNTS[connection.provider]
    account = account_class(
        Tokens(connection.access_token, connection.refresh_token, connection.token_expires_at),
        limiter=limiter_for(connection.provider),
    )
    account.today = today
    return account


def record_enabled_capabilities(connection: Connection, *, today: date | None = None) -> None:
    """Write this worker's settings (a capability turned off for the deployment, such as
    `PLAUDIT_QANDA_ENABLED`) onto the connection as capability states, so that the scheduler and
    the API, which read only the database, follow the processes that make the provider calls.
    Only `available` and `disabled` are changed: retired and missing permissions are the
    provider's answer, not a setting. A capability the provider has documented the end of
    (Facebook's recommendations) is retired here once that day comes, without a call."""
    account_class = ACCOUNTS[connection.provider]
    states = dict(connection.capabilities)
    day = today or datetime.now(UTC).date()
    for capability in account_class.streams:
        state = connection.capability_state(capability)
        ended = account_class.retired(capability, today=day)
        if ended and state in (CapabilityState.AVAILABLE, CapabilityState.DISABLED):
            states[capability] = {
                "state": CapabilityState.RETIRED,
                "message": ended,
                "since": datetime.now(UTC).isoformat(),
            }
        elif account_class.enabled(capability) and state == CapabilityState.DISABLED:
            states.pop(capability, None)
        elif not account_class.enabled(capability) and state == CapabilityState.AVAILABLE:
            states[capability] = {
                "state": CapabilityState.DISABLED,
                "message": "Turned off in this deployment's settings",
                "since": datetime.now(UTC).isoformat(),
            }
    if states != connection.capabilities:
        connection.capabilities = states


def location_ref(location: Location) -> LocationRef:
    return LocationRef(external_id=location.external_id, access_token=location.access_token)


def save_tokens(session: Session, *, connection_id: int, account: ProviderAccount) -> None:
    """Persist a refreshed (or rotated) token, encrypted, so the next job need not refresh."""
    tokens = account.tokens()
    connection = session.get(Connection, connection_id)
    if connection is None or tokens.access_token == connection.access_token:
        return
    connection.access_token = tokens.access_token
    connection.token_expires_at = tokens.expires_at
    if tokens.refresh_token and tokens.refresh_token != connection.refresh_token:
        connection.refresh_token = tokens.refresh_token


def mark_needs_reauth(session: Session, *, connection_id: int, message: str) -> None:
    connection = session.get(Connection, connection_id)
    if connection is not None:
        if connection.status != ConnectionStatus.NEEDS_REAUTH:
            emit(
                session,
                organisation_id=connection.organisation_id,
                event="connection.needs_reauth",
                payload={"connection_id": connection.id, "provider": connection.provider},
            )
        connection.status = ConnectionStatus.NEEDS_REAUTH
        connection.status_message = message
