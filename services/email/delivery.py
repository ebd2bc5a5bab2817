"""Sending an e-mail from the outbox, once (the mechanism: `services.outbox`).

As with replies, the row is committed as ``sending`` (attempt counted) before the back-end is
called, and the call is made holding the row's lock, so two workers never send the same message
at the same time and a sent message is never sent again. A message whose worker died between the
server's acceptance and the commit is sent again with the same Message-ID, by which mail
clients and many servers recognise the duplicate.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage as MimeMessage

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.settings import get_settings
from models import (
    EmailMessage,
    EmailStatus,
    Recipient,
    RecipientStatus,
    Suppression,
)
from services import outbox
from services.email import links
from services.email.backends import PermanentError, TransientError, get_backend, mailbox_box
from services.email.compose import Envelope, compose
from services.email.policy import branding
from services.email.queue import SEND
from services.outbox import Budget, Failed, Outcome, Retry, Sent, Settled

log = logging.getLogger(__name__)


@dataclass
class _Send:
    session: Session
    row: EmailMessage

    def read_back(self) -> Outcome | None:
        return None  # a mail server cannot be asked; the same Message-ID marks a duplicate

    def send(self) -> Outcome:
        row = self.row
        box = mailbox_box(
            organisation_id=row.organisation_id, personal=row.personal, to_index=row.to_index
        )
        message = compose_message(self.session, row)
        return Sent(get_backend().send(message, tag=row.template, box=box))


class EmailOutbox(outbox.Outbox[EmailMessage]):
    model = EmailMessage
    actor = SEND
    budget = Budget(
        first_backoff=timedelta(seconds=2),
        max_backoff=timedelta(minutes=10),
        max_attempts=lambda: get_settings().email_max_attempts,
    )
    pending, sending = EmailStatus.PENDING, EmailStatus.SENDING
    done, failed = EmailStatus.SENT, EmailStatus.FAILED

    def prepare(self, session: Session, row: EmailMessage) -> Outcome | None:
        return Settled(EmailStatus.SUPPRESSED) if _suppressed(session, row) else None

    @contextmanager
    def attempt(self, session: Session, row: EmailMessage) -> Iterator[_Send]:
        yield _Send(session, row)

    def failure(self, session: Session, row: EmailMessage, exc: Exception) -> Outcome | None:
        if isinstance(exc, TransientError):
            return Retry(str(exc))
        if isinstance(exc, PermanentError):
            return Failed(str(exc))
        return None

    def recorded(
        self, session: Session, row: EmailMessage, outcome: Outcome, now: datetime
    ) -> None:
        if isinstance(outcome, Sent):
            row.sent_at, row.provider_message_id = now, outcome.result
            _mark_recipient_sent(session, row)

    def stale_after(self) -> timedelta:
        return timedelta(seconds=get_settings().email_stuck_seconds)


EMAILS = EmailOutbox()


def deliver_email(session: Session, *, message_id: int) -> str | None:
    """Try to send one e-mail; returns its status afterwards (None: busy elsewhere or gone).
    Commits: the attempt is recorded before the back-end is called."""
    return outbox.deliver(session, EMAILS, row_id=message_id)


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
