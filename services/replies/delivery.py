"""Delivering a reply from the outbox, exactly once (the mechanism: `services.outbox`).

A write is never repeated blind: the connectors do not retry a write whose answer was lost
(``OutcomeUnknown``), and whenever an earlier attempt's outcome is unknown (its worker died
mid-call, or its answer was lost) the next attempt reads the provider's state back first and
only records what is already there. ``attempt_started_at`` stays set until the reply is
``sent``, so any attempt that did not end in success counts as unknown.

Replies to first-party feedback have no provider: the reviewer is e-mailed instead
(`services.replies.first_party`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from connectors import errors
from connectors.account import LocationRef, Replier, WriteMarker
from core.redaction import redact
from core.settings import get_settings
from models import Connection, ConnectionStatus, Item, Location, Reply, ReplyAction, ReplyStatus
from models.redaction_policy import policy_for
from services import outbox
from services.outbox import Budget, Failed, Later, Outcome, Retry, Sent, Wait
from services.replies import moderation
from services.replies.events import announce
from services.replies.first_party import notify_reviewer
from services.replies.pacing import pacer_for
from services.sync.accounts import location_ref, mark_needs_reauth, open_account, save_tokens

log = logging.getLogger(__name__)
SEND = "reply.send"  # the actor that delivers one reply


@dataclass
class _ProviderWrite:
    """One attempt's means: the replier for the item's kind, where, and the write's marker."""

    replier: Replier
    location: LocationRef
    item_external_id: str
    reply: Reply
    marker: WriteMarker

    def read_back(self) -> Outcome | None:
        where = (self.location, self.item_external_id)
        if self.reply.action == ReplyAction.DELETE:
            if self.replier.gone(*where, self.marker):
                log.info("reply %s: the delete had already reached the provider", self.reply.id)
                return Sent(None)
            return None
        found = self.replier.find(*where, self.reply.body, self.marker)
        if found is not None:
            log.info("reply %s was already at the provider; recording it", self.reply.id)
            return Sent(found)
        return None

    def send(self) -> Outcome:
        where = (self.location, self.item_external_id)
        if self.reply.action == ReplyAction.DELETE:
            self.replier.delete(*where, self.marker)  # deleting what is gone: a no-op
            return Sent(None)
        if self.reply.action == ReplyAction.UPDATE:
            return Sent(self.replier.edit(*where, self.reply.body, self.marker))
        return Sent(self.replier.post(*where, self.reply.body, self.marker))


class ReplyOutbox(outbox.Outbox[Reply]):
    model = Reply
    actor = SEND
    budget = Budget(
        first_backoff=timedelta(seconds=2),
        max_backoff=timedelta(minutes=5),
        max_attempts=lambda: get_settings().reply_max_attempts,
    )
    pending, sending = ReplyStatus.PENDING, ReplyStatus.SENDING
    done, failed = ReplyStatus.SENT, ReplyStatus.FAILED

    def prepare(self, session: Session, row: Reply) -> Outcome | None:
        item = session.get(Item, row.item_id)
        connection = session.get(Connection, item.connection_id) if item else None
        if item is None or connection is None:
            return Failed("the item or its connection no longer exists")
        if connection.status != ConnectionStatus.ACTIVE:
            # Kept pending: the reconciler sends it once the connection is re-authorised.
            return Later("the connection needs to be re-authorised")
        pacer = pacer_for(connection.provider, item, _location(session, item))
        wait = pacer.reserve() if pacer is not None else 0.0
        if wait > 0:
            return Wait("paced: the location's reply writes a minute are taken", wait)
        return None

    def outcome_unknown(self, row: Reply) -> bool:
        # Still `sending`: its worker died mid-call. A start time left: an answer was lost.
        return row.status == ReplyStatus.SENDING or row.attempt_started_at is not None

    def mark(self, session: Session, row: Reply, now: datetime) -> None:
        if row.attempt_started_at is None:
            row.attempt_started_at = now
        if row.provider_reply_id is None and row.action != ReplyAction.POST:
            row.provider_reply_id = _reply_id_sent_before(session, row)

    @contextmanager
    def attempt(self, session: Session, row: Reply) -> Iterator[_ProviderWrite]:
        item = session.get_one(Item, row.item_id)
        connection = session.get_one(Connection, item.connection_id)
        account = open_account(connection)
        try:
            replier = account.replier(item.kind)
            if replier is None:
                raise _CannotReply(f"{connection.provider} {item.kind}s cannot be replied to")
            location = location_ref(session.get_one(Location, item.location_id))
            marker = WriteMarker(row.attempt_started_at, row.provider_reply_id)
            try:
                yield _ProviderWrite(replier, location, item.external_id, row, marker)
            finally:
                # Kept whatever happened: the id is what the next read-back looks for.
                row.provider_reply_id = marker.reply_id
        finally:
            save_tokens(session, connection_id=connection.id, account=account)

    def failure(self, session: Session, row: Reply, exc: Exception) -> Outcome | None:
        if isinstance(exc, _CannotReply):
            return Failed(str(exc))
        if isinstance(exc, errors.NeedsReauth):
            item = session.get_one(Item, row.item_id)
            if item.connection_id is not None:
                mark_needs_reauth(session, connection_id=item.connection_id, message=str(exc))
            return Later(str(exc))
        if isinstance(exc, errors.RateLimited):
            # Refused for its rate, so not applied (a write is only ever refused, never cut off,
            # by a rate limit): not an attempt the budget counts. A rate limit is waited out as
            # long as the provider asks, as a sync's is, or a busy location would fail replies.
            row.attempts -= 1
            item = session.get_one(Item, row.item_id)
            connection = session.get_one(Connection, item.connection_id)
            pacer = pacer_for(connection.provider, item, _location(session, item))
            if pacer is not None:
                # The location's edits limit: hold back its writes, and only its, a window.
                return Wait(str(exc), after=pacer.back_off())
            after = exc.retry_after or self.budget.backoff(row.attempts + 1).total_seconds()
            return Wait(str(exc), after=after)
        if isinstance(exc, errors.Transient):
            return Retry(str(exc), after=exc.retry_after)
        if isinstance(exc, errors.ProviderError):
            return Failed(str(exc))
        return None

    def recorded(self, session: Session, row: Reply, outcome: Outcome, now: datetime) -> None:
        if isinstance(outcome, Sent):
            row.sent_at, row.attempt_started_at = now, None
            posted = outcome.result
            item = session.get_one(Item, row.item_id)
            # Stored as the next sync will store it: redacted like all provider text (the
            # sender may have confirmed an address or number that the outbox row keeps).
            item.reply_text = (
                redact(posted.text, policy_for(session, item.organisation_id)).text
                if posted
                else None
            )
            item.reply_updated_at = posted.updated_at if posted else None
            item.reply_external_id = row.provider_reply_id if posted else None
            # A write Google accepted may still be moderated, or already rejected.
            moderation.record(session, row, item, posted, now)
        announce(session, row)

    def stale_after(self) -> timedelta:
        return timedelta(seconds=get_settings().reply_stuck_seconds)

    def left_behind(self, query: Select[Any], before: datetime) -> Select[Any]:
        return (
            query.join(Item, Item.id == Reply.item_id)
            # First-party replies have no connection; they go out by e-mail.
            .outerjoin(Connection, Connection.id == Item.connection_id)
            .where(
                Reply.updated_at < before,
                or_(Item.connection_id.is_(None), Connection.status == ConnectionStatus.ACTIVE),
            )
            .order_by(Reply.updated_at)
        )


REPLIES = ReplyOutbox()


def _location(session: Session, item: Item) -> Location | None:
    return session.get(Location, item.location_id) if item.location_id is not None else None


class _CannotReply(Exception):
    pass


def deliver(session: Session, *, reply_id: int) -> str | None:
    """Try to send one reply; returns its status afterwards (None: busy elsewhere or gone).
    Commits: the attempt is recorded before the provider is called."""
    # First-party feedback has no provider and no connection: the reviewer is e-mailed.
    first_party = notify_reviewer(session, reply_id=reply_id)
    if first_party is not None:
        session.commit()
        return first_party
    return outbox.deliver(session, REPLIES, row_id=reply_id)


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
