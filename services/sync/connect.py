"""Finishing a connection after consent: exchange the code, store the tokens, first sync.

The callback only records the code; the exchange happens here so that routers never call a
provider. The tokens are committed before anything else is tried, so a crash later cannot lose
the grant, and a retried job finds the code already consumed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import errors
from connectors.account import TokenSet
from connectors.facebook import oauth as facebook_oauth
from connectors.google import oauth as google_oauth
from connectors.providers import BY_PROVIDER
from core.settings import get_settings
from models import CapabilityState, Connection, ConnectionStatus, OAuthState, Provider
from services.jobs import send_after_commit
from services.sync.accounts import open_account, record_enabled_capabilities, save_tokens
from services.sync.run import SYNC
from services.sync.schedule import claim_sync

log = logging.getLogger(__name__)

# (code, code_verifier, redirect_uri) -> tokens, for each provider that can be connected.
_EXCHANGES: dict[str, Callable[..., TokenSet]] = {
    Provider.GOOGLE: google_oauth.exchange_code,
    Provider.FACEBOOK: facebook_oauth.exchange_code,
}


FINISH = "connect.finish"  # the actor that finishes a connection
BATCH = 500


def finish(session: Session, *, state: str) -> str | None:
    """Returns the connection's status afterwards, or None if there was nothing to finish."""
    oauth_state = session.scalars(
        select(OAuthState).where(OAuthState.state == state).with_for_update(skip_locked=True)
    ).one_or_none()
    if oauth_state is None or not oauth_state.code or oauth_state.connection_id is None:
        return None
    connection = session.get_one(Connection, oauth_state.connection_id)
    try:
        tokens = _EXCHANGES[connection.provider](
            code=oauth_state.code,
            code_verifier=oauth_state.code_verifier or "",
            # The one the consent request used (older states: this process's settings).
            redirect_uri=oauth_state.redirect_uri
            or get_settings().oauth_callback_url(oauth_state.provider),
        )
    except errors.ConnectFailed as exc:
        connection.status, connection.status_message = ConnectionStatus.ERROR, str(exc)
    else:
        connection.access_token = tokens.access_token
        connection.refresh_token = tokens.refresh_token
        connection.token_expires_at = tokens.expires_at
        connection.scopes = tokens.scopes
        connection.status, connection.status_message = ConnectionStatus.ACTIVE, None
        _label(session, connection)
        # The first sync: claimed as the scheduler claims it, so it runs once, and only for
        # the capabilities this worker's settings leave on (recorded for the scheduler).
        claim_sync(connection, datetime.now(UTC))
        record_enabled_capabilities(connection)
        for capability in BY_PROVIDER.get(connection.provider, []):
            if connection.capability_state(capability) == CapabilityState.AVAILABLE:
                send_after_commit(session, SYNC, connection.id, capability)
    # The state has done its job either way; the code must never be exchanged twice.
    session.delete(oauth_state)
    return connection.status


def _label(session: Session, connection: Connection) -> None:
    """Name the connection as the provider names the account. Not worth failing a connection
    for: without it the label stays empty and the next location refresh tries again."""
    account = open_account(connection)
    try:
        label = account.account_label()
    except errors.ProviderError as exc:
        log.info("no label for connection %s: %s", connection.id, type(exc).__name__)
        return
    finally:
        save_tokens(session, connection_id=connection.id, account=account)
    connection.account_label = (label or "")[:200]


def unfinished(session: Session, *, now: datetime) -> int:
    """Consents whose code was recorded but never exchanged (a lost message) are finished
    again; claimed with SKIP LOCKED and pushed forward, so several schedulers never double
    them."""
    waiting = list(
        session.scalars(
            select(OAuthState)
            .where(
                OAuthState.code.is_not(None), OAuthState.updated_at < now - timedelta(seconds=30)
            )
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    for oauth_state in waiting:
        oauth_state.updated_at = now
        send_after_commit(session, FINISH, oauth_state.state)
    return len(waiting)
