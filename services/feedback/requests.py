"""Sending feedback requests and reminders: throttled per organisation, capped per recipient.

The scheduler finds the organisations with requests due (`organisations_due`) and enqueues one
job each; the job runs `send_due` in its own transaction, so one organisation's failure leaves
the others alone. Recipients are claimed with ``FOR UPDATE SKIP LOCKED`` and an organisation's
run holds its advisory lock, so two jobs never e-mail the same recipient twice nor together
exceed the hourly limit; the e-mails themselves go through the outbox
(``services.email.queue_email``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from models import EmailMessage, Recipient, RecipientStatus
from services.email import links
from services.email.policy import Policy, policy, suppressed_indexes
from services.email.queue import Outgoing, queue_emails

BATCH = 500
TEMPLATES = ("feedback_request", "feedback_reminder")
_WAITING = (RecipientStatus.QUEUED, RecipientStatus.SENT)


SEND_DUE = "feedback.send_due"  # the actor that runs one organisation's due requests


def organisations_due(session: Session, *, now: datetime) -> list[int]:
    """The organisations with a request or reminder due."""
    return list(
        session.scalars(
            select(Recipient.organisation_id)
            .where(Recipient.status.in_(_WAITING), Recipient.next_send_at <= now)
            .distinct()
            .limit(BATCH)
        )
    )


def send_due(session: Session, *, organisation_id: int, now: datetime) -> int:
    """Queue the organisation's due requests and reminders within its hourly limit; returns
    how many e-mails were queued."""
    lock = text("SELECT pg_try_advisory_xact_lock(hashtext(:key))")
    if not session.scalar(lock, {"key": f"feedback:{organisation_id}"}):
        return 0  # another job is sending this organisation's requests right now
    return _send_for(session, organisation_id, now)


def _send_for(session: Session, organisation_id: int, now: datetime) -> int:
    rules = policy(session, organisation_id=organisation_id)
    room = rules.hourly_limit - _sent_last_hour(session, organisation_id, now)
    if room <= 0:
        return 0
    due = _claim_due(session, organisation_id, now, limit=min(room, BATCH))
    suppressed = suppressed_indexes(
        session, organisation_id=organisation_id, indexes=[r.email_index for r in due]
    )
    capped = _capped(session, [r for r in due if r.requests_sent == 0], rules, now)
    outgoing: list[Outgoing] = []
    for recipient in due:
        first = recipient.requests_sent == 0
        if recipient.email_index in suppressed:
            recipient.status, recipient.next_send_at = RecipientStatus.SUPPRESSED, None
        elif first and recipient.email_index in capped:
            recipient.status, recipient.next_send_at = RecipientStatus.CAPPED, None
        else:
            outgoing.append(_ask(recipient, rules, now))
            if first:
                capped.add(recipient.email_index)  # in two campaigns of this batch: asked once
    queue_emails(session, outgoing)
    return len(outgoing)


def _claim_due(
    session: Session, organisation_id: int, now: datetime, *, limit: int
) -> list[Recipient]:
    return list(
        session.scalars(
            select(Recipient)
            .where(
                Recipient.organisation_id == organisation_id,
                Recipient.status.in_(_WAITING),
                Recipient.next_send_at <= now,
            )
            .order_by(Recipient.next_send_at, Recipient.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def _ask(recipient: Recipient, rules: Policy, now: datetime) -> Outgoing:
    """The request (or reminder) for one recipient, counted and the next one scheduled."""
    first = recipient.requests_sent == 0
    outgoing = Outgoing(
        organisation_id=recipient.organisation_id,
        to=recipient.email,
        template=TEMPLATES[0] if first else TEMPLATES[1],
        context={"name": recipient.name, "feedback_url": links.feedback_url(recipient.id)},
        transactional=False,
        recipient_id=recipient.id,
    )
    recipient.requests_sent += 1
    recipient.first_sent_at = recipient.first_sent_at or now
    # requests_sent counts the first request: reminders are the ones after it.
    more = recipient.requests_sent <= rules.max_reminders
    recipient.next_send_at = now + timedelta(days=rules.reminder_days) if more else None
    return outgoing


def _sent_last_hour(session: Session, organisation_id: int, now: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(EmailMessage)
            .where(
                EmailMessage.organisation_id == organisation_id,
                EmailMessage.stream == "feedback",
                EmailMessage.created_at > now - timedelta(hours=1),
                EmailMessage.template.in_(TEMPLATES),
            )
        )
        or 0
    )


def _capped(
    session: Session, first_time: list[Recipient], rules: Policy, now: datetime
) -> set[str]:
    """Addresses asked already within the organisation's period, from any campaign."""
    if rules.frequency_cap_days <= 0 or not first_time:
        return set()
    since = now - timedelta(days=rules.frequency_cap_days)
    return set(
        session.scalars(
            select(Recipient.email_index).where(
                Recipient.organisation_id == first_time[0].organisation_id,
                Recipient.email_index.in_([r.email_index for r in first_time]),
                Recipient.id.not_in([r.id for r in first_time]),
                Recipient.first_sent_at > since,
            )
        )
    )
