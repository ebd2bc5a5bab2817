"""Sending an e-mail from the outbox, once.

As with replies, the row is committed as ``sending`` (attempt counted) before the back-end is
called, and the call is made holding the row's lock, so two workers never send the same message
at the same time and a sent message is never sent again. A message whose worker died between the
server's acceptance and the commit is sent again with the same Message-ID, by which mail
clients and many servers recognise the duplicate.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage

import dramatiq
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from models import (
    EmailMessage,
    EmailStatus,
    Recipient,
    RecipientStatus,
    Suppression,
)
from models.db import session_scope
from plaudit.email import links
from plaudit.email.backends import PermanentError, TransientError, get_backend, mailbox_box
from plaudit.email.compose import Envelope, compose
from plaudit.email.policy import branding
from plaudit.settings import get_settings
from workers.enqueue import enqueue_after_commit

log = logging.getLogger(__name__)
BATCH = 500


def _locked(session: Session, message_id: int) -> EmailMessage | None:
    return session.scalars(
        select(EmailMessage).where(EmailMessage.id == message_id).with_for_update(skip_locked=True)
    ).one_or_none()


def deliver_email(message_id: int) -> str | None:
    """Try to send one e-mail; returns its status afterwards (None: busy elsewhere or gone)."""
    with session_scope() as session:
        row = _locked(session, message_id)
        if row is None or row.status not in (EmailStatus.PENDING, EmailStatus.SENDING):
            return row.status if row else None
        if _suppressed(session, row):
            row.status = EmailStatus.SUPPRESSED
            return row.status
        row.status = EmailStatus.SENDING
        row.attempts += 1

    retry: dramatiq.Retry | None = None
    with session_scope() as session:
        row = _locked(session, message_id)
        if row is None or row.status != EmailStatus.SENDING:
            return row.status if row else None
        try:
            box = mailbox_box(
                organisation_id=row.organisation_id, personal=row.personal, to_index=row.to_index
            )
            provider_id = get_backend().send(
                compose_message(session, row), tag=row.template, box=box
            )
        except TransientError as exc:
            row.last_error = str(exc)
            if row.attempts >= get_settings().email_max_attempts:
                _give_up(row, f"gave up after {row.attempts} attempts: {exc}")
            else:
                row.status = EmailStatus.PENDING
                retry = dramatiq.Retry(str(exc))
        except PermanentError as exc:
            _give_up(row, str(exc))
        else:
            row.status, row.sent_at, row.last_error = EmailStatus.SENT, datetime.now(UTC), None
            row.provider_message_id = provider_id
            _mark_recipient_sent(session, row)
        status = row.status
    if retry is not None:
        # Committed first: the broker's retry only re-runs what the row says is unfinished.
        raise retry
    return status


def _suppressed(session: Session, row: EmailMessage) -> bool:
    query = select(Suppression.id).where(
        Suppression.organisation_id == row.organisation_id,
        Suppression.email_index == row.to_index,
    )
    if row.stream == "transactional":
        query = query.where(Suppression.blocks_transactional)
    return session.scalar(query.limit(1)) is not None


def compose_message(session: Session, row: EmailMessage) -> MimeMessage:
    envelope = Envelope(
        sender=get_settings().mail_from,
        to=row.to_address,
        message_id=row.message_id,
        unsubscribe_url=links.unsubscribe_url(row.organisation_id, row.to_index),
        reply_to=row.reply_to,
    )
    return compose(
        template=row.template,
        context=json.loads(row.context),
        branding=branding(session, row.organisation_id),
        envelope=envelope,
    )


def _mark_recipient_sent(session: Session, row: EmailMessage) -> None:
    if row.recipient_id is not None:
        session.execute(
            update(Recipient)
            .where(Recipient.id == row.recipient_id, Recipient.status == RecipientStatus.QUEUED)
            .values(status=RecipientStatus.SENT)
        )


def _give_up(row: EmailMessage, message: str) -> None:
    row.status, row.last_error = EmailStatus.FAILED, message[:1000]
    log.warning("e-mail %s failed: %s", row.id, message)


def reenqueue_stuck_emails(now: datetime) -> int:
    """Rows left pending or sending (a lost message, a dead worker) are sent again."""
    stale = now - timedelta(seconds=get_settings().email_stuck_seconds)
    with session_scope() as session:
        stuck = list(
            session.scalars(
                select(EmailMessage)
                .where(
                    EmailMessage.status.in_([EmailStatus.PENDING, EmailStatus.SENDING]),
                    EmailMessage.updated_at < stale,
                )
                .order_by(EmailMessage.updated_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for row in stuck:
            row.updated_at = now  # not picked again until it is stale once more
            enqueue_after_commit(session, send_email, row.id)
    return len(stuck)


@dramatiq.actor(actor_name="email.send", max_retries=10, min_backoff=2000, max_backoff=600_000)
def send_email(message_id: int) -> None:
    deliver_email(message_id)
