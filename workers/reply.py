"""Delivering a reply from the outbox, exactly once.

The row is committed as ``sending`` (with the attempt counted and ``attempt_started_at`` set)
before the provider is called, and the call is made holding the row's lock so that two workers
never post the same reply at once. A write is never repeated blind: the connectors do not retry a
write whose answer was lost (``OutcomeUnknown``), and whenever an earlier attempt's outcome is
unknown (its worker died mid-call, or its answer was lost) the next attempt reads the provider's
state back first and only records what is already there. ``attempt_started_at`` stays set until
the reply is ``sent``, so any attempt that did not end in success counts as unknown.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import dramatiq
from sqlalchemy import select
from sqlalchemy.orm import Session

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from connectors import errors
from connectors.account import LocationRef, PostedReply, Replier, WriteMarker
from models import (
    Connection,
    ConnectionStatus,
    Item,
    Location,
    Reply,
    ReplyAction,
    ReplyStatus,
)
from models.db import session_scope
from models.redaction_policy import policy_for
from plaudit.redaction import redact
from plaudit.settings import get_settings
from workers.accounts import location_ref, mark_needs_reauth, open_account, save_tokens
from workers.reviewer_notice import notify_reviewer
from workers.webhooks import emit

log = logging.getLogger(__name__)


def _locked(session: Session, reply_id: int) -> Reply | None:
    return session.scalars(
        select(Reply).where(Reply.id == reply_id).with_for_update(skip_locked=True)
    ).one_or_none()


def deliver(reply_id: int) -> str | None:
    """Try to send one reply; returns its status afterwards (None: busy elsewhere or gone)."""
    # First-party feedback has no provider and no connection: the reviewer is e-mailed.
    first_party = notify_reviewer(reply_id)
    if first_party is not None:
        return first_party
    with session_scope() as session:
        reply = _locked(session, reply_id)
        # Only what is due: not sent, not failed, not awaiting a manager's approval or rejected.
        if reply is None or reply.status not in (ReplyStatus.PENDING, ReplyStatus.SENDING):
            return reply.status if reply else None
        item = session.get(Item, reply.item_id)
        connection = session.get(Connection, item.connection_id) if item else None
        if item is None or connection is None:
            _give_up(reply, "the item or its connection no longer exists")
            return reply.status
        if connection.status != ConnectionStatus.ACTIVE:
            # Kept pending: the reconciler sends it once the connection is re-authorised.
            reply.last_error = "the connection needs to be re-authorised"
            return reply.status
        # Still `sending`: its worker died mid-call. A start time left: an answer was lost.
        read_back = reply.status == ReplyStatus.SENDING or reply.attempt_started_at is not None
        if reply.attempt_started_at is None:
            reply.attempt_started_at = datetime.now(UTC)
        if reply.provider_reply_id is None and reply.action != ReplyAction.POST:
            reply.provider_reply_id = _reply_id_sent_before(session, reply)
        reply.status = ReplyStatus.SENDING
        reply.attempts += 1

    retry: dramatiq.Retry | None = None
    with session_scope() as session:
        reply = _locked(session, reply_id)
        if reply is None or reply.status != ReplyStatus.SENDING:
            return reply.status if reply else None
        item = session.get_one(Item, reply.item_id)
        connection = session.get_one(Connection, item.connection_id)
        account = open_account(connection)
        replier = account.replier(item.kind)
        if replier is None:
            _give_up(reply, f"{connection.provider} {item.kind}s cannot be replied to")
            return reply.status
        location = location_ref(session.get_one(Location, item.location_id))
        marker = WriteMarker(reply.attempt_started_at, reply.provider_reply_id)
        try:
            posted = _carry_out(replier, location, item.external_id, reply, marker, read_back)
        except errors.NeedsReauth as exc:
            mark_needs_reauth(session, connection.id, str(exc))
            reply.status, reply.last_error = ReplyStatus.PENDING, str(exc)
        except errors.Transient as exc:
            _retry_later(reply, exc)
            if reply.status == ReplyStatus.PENDING:
                delay = int((exc.retry_after or 0) * 1000) or None
                retry = dramatiq.Retry(str(exc), delay=delay)
        except errors.ProviderError as exc:
            _give_up(reply, str(exc))
        else:
            reply.status, reply.sent_at, reply.last_error = (
                ReplyStatus.SENT,
                datetime.now(UTC),
                None,
            )
            # Stored as the next sync will store it: redacted like all provider text (the
            # sender may have confirmed an address or number that the outbox row keeps).
            item.reply_text = (
                redact(posted.text, policy_for(session, item.organisation_id)).text
                if posted
                else None
            )
            item.reply_updated_at = posted.updated_at if posted else None
        finally:
            # Kept whatever happened: the id is what the next read-back looks for.
            reply.provider_reply_id = marker.reply_id
            if reply.status == ReplyStatus.SENT:
                reply.attempt_started_at = None
            save_tokens(session, connection.id, account)
        _announce(session, reply)
        status = reply.status
    if retry is not None:
        # Committed first: the broker's retry only re-runs what the row says is unfinished.
        raise retry
    return status


def _announce(session: Session, reply: Reply) -> None:
    """Tell the organisation's webhook endpoints how a reply ended."""
    event = {ReplyStatus.SENT: "reply.sent", ReplyStatus.FAILED: "reply.failed"}.get(reply.status)
    if event:
        payload = {"reply_id": reply.id, "item_id": reply.item_id, "action": reply.action}
        emit(session, organisation_id=reply.organisation_id, event=event, payload=payload)


def _reply_id_sent_before(session: Session, reply: Reply) -> str | None:
    """The provider's id of the reply an edit or a delete is for: the item's last one sent."""
    return session.scalar(
        select(Reply.provider_reply_id)
        .where(
            Reply.item_id == reply.item_id,
            Reply.status == ReplyStatus.SENT,
            Reply.provider_reply_id.is_not(None),
        )
        .order_by(Reply.sent_at.desc())
        .limit(1)
    )


def _carry_out(
    replier: Replier,
    location: LocationRef,
    item_external_id: str,
    reply: Reply,
    marker: WriteMarker,
    read_back: bool,
) -> PostedReply | None:
    """Post (or edit) the reply, or delete ours; None once it is deleted. After an attempt
    whose outcome is unknown, the provider's state is read back before anything is written."""
    if reply.action == ReplyAction.DELETE:
        if read_back and replier.gone(location, item_external_id, marker):
            log.info("reply %s: the delete had already reached the provider", reply.id)
        else:
            replier.delete(location, item_external_id, marker)  # deleting what is gone: a no-op
        return None
    if read_back:
        found = replier.find(location, item_external_id, reply.body, marker)
        if found is not None:
            log.info("reply %s was already at the provider; recording it", reply.id)
            return found
    return replier.post(location, item_external_id, reply.body, marker)


def _retry_later(reply: Reply, exc: errors.Transient) -> None:
    reply.last_error = str(exc)
    if reply.attempts >= get_settings().reply_max_attempts:
        _give_up(reply, f"gave up after {reply.attempts} attempts: {exc}")
    else:
        reply.status = ReplyStatus.PENDING


def _give_up(reply: Reply, message: str) -> None:
    reply.status, reply.last_error = ReplyStatus.FAILED, message[:1000]
    log.warning("reply %s failed: %s", reply.id, message)


@dramatiq.actor(actor_name="reply.send", max_retries=10, min_backoff=2000, max_backoff=300_000)
def send_reply(reply_id: int) -> None:
    deliver(reply_id)
