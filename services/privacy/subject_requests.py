"""Data-subject requests: export everything held about one person, or erase it.

A person is found by e-mail address (through its blind index) or by a provider's reviewer id.
Erasure deletes what exists only because of them (recipient records, their e-mails, their
first-party feedback and its thread, the organisation's internal notes on their items, the
demo mailbox's copies of e-mails to them, earlier exports about them) and anonymises what must
remain (a review that stays public at the provider keeps its rating and date, not its author or
text). The suppression list keeps only the blind index, so an erased person is still never
e-mailed again.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from core import crypto
from core.settings import get_settings
from models import EmailMessage, Item, ItemNote, Recipient, Reply, Suppression, ThreadMessage
from models.privacy import DataSubjectRequest, RequestKind, RequestStatus
from services.email.backends import MailboxBackend
from services.jobs import send_after_commit

log = logging.getLogger(__name__)
ERASED = "[erased]"
DUE_AFTER = timedelta(days=30)  # "within a month of receipt"
PROCESS = "privacy.subject_request"  # the actor that carries a request out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _item(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "source": item.source,
        "kind": item.kind,
        "external_id": item.external_id,
        "author_name": item.author_name,
        "rating": item.rating,
        "text": item.text,
        "original_text": item.original_text,
        "posted_at": _iso(item.posted_at),
        "reply": item.reply_text,
        "deleted": item.deleted,
    }


def _subject_items(
    session: Session, organisation_id: int, *, email_index: str | None, reviewer_id: str | None
) -> list[Item]:
    conditions = []
    if reviewer_id:
        conditions.append(Item.author_external_id == reviewer_id)
    if email_index:
        recipients = select(Recipient.item_id).where(
            Recipient.organisation_id == organisation_id, Recipient.email_index == email_index
        )
        conditions.append(Item.id.in_(recipients))
    if not conditions:
        return []
    query = select(Item).where(Item.organisation_id == organisation_id, or_(*conditions))
    return list(session.scalars(query))


def _by_address(
    session: Session, organisation_id: int, email_index: str
) -> tuple[list[Recipient], list[EmailMessage], Suppression | None]:
    recipients = session.scalars(
        select(Recipient).filter_by(organisation_id=organisation_id, email_index=email_index)
    )
    emails = session.scalars(
        select(EmailMessage).filter_by(organisation_id=organisation_id, to_index=email_index)
    )
    suppression = session.scalars(
        select(Suppression).filter_by(organisation_id=organisation_id, email_index=email_index)
    ).first()
    return list(recipients), list(emails), suppression


def export(
    session: Session,
    *,
    organisation_id: int,
    email_index: str | None = None,
    reviewer_id: str | None = None,
) -> dict[str, Any]:
    items = _subject_items(
        session, organisation_id, email_index=email_index, reviewer_id=reviewer_id
    )
    data: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(),
        "items": [_item(item) for item in items],
        **_about_items(session, [item.id for item in items]),
        "feedback_requests": [],
        "emails_sent": [],
        "suppression": None,
    }
    if email_index:
        data.update(_about_address(session, organisation_id, email_index))
    return data


def _about_items(session: Session, item_ids: list[int]) -> dict[str, Any]:
    """The threads, replies and notes on the person's items."""
    threads = session.scalars(select(ThreadMessage).where(ThreadMessage.item_id.in_(item_ids)))
    replies = session.scalars(select(Reply).where(Reply.item_id.in_(item_ids)))
    # What the organisation wrote about them internally is personal data about them too.
    notes = session.scalars(
        select(ItemNote).where(ItemNote.item_id.in_(item_ids)).order_by(ItemNote.id)
    )
    return {
        "thread_messages": [
            {
                "item_id": m.item_id,
                "direction": m.direction,
                "body": m.body,
                "at": _iso(m.created_at),
            }
            for m in threads
        ],
        "replies": [
            {"item_id": r.item_id, "body": r.body, "status": r.status, "sent_at": _iso(r.sent_at)}
            for r in replies
        ],
        "notes": [{"item_id": n.item_id, "body": n.body, "at": _iso(n.created_at)} for n in notes],
    }


def _about_address(session: Session, organisation_id: int, email_index: str) -> dict[str, Any]:
    """What is held because of the person's e-mail address."""
    recipients, emails, suppression = _by_address(session, organisation_id, email_index)
    return {
        "feedback_requests": [
            {
                "name": r.name,
                "email": r.email,
                "campaign_id": r.campaign_id,
                "status": r.status,
                "requests_sent": r.requests_sent,
                "first_sent_at": _iso(r.first_sent_at),
                "answered_at": _iso(r.answered_at),
                "external_ref": r.external_ref,
            }
            for r in recipients
        ],
        "emails_sent": [
            {
                "to": m.to_address,
                "template": m.template,
                "status": m.status,
                "sent_at": _iso(m.sent_at),
            }
            for m in emails
        ],
        "suppression": (
            {"reason": suppression.reason, "since": _iso(suppression.created_at)}
            if suppression
            else None
        ),
    }


def erase(
    session: Session,
    *,
    organisation_id: int,
    email_index: str | None = None,
    reviewer_id: str | None = None,
) -> dict[str, int]:
    items = _subject_items(
        session, organisation_id, email_index=email_index, reviewer_id=reviewer_id
    )
    counts = _erase_items(session, items)
    if email_index:
        counts.update(_erase_address(session, organisation_id, email_index))
    counts["exports_cleared"] = _clear_exports(
        session, organisation_id, email_index=email_index, reviewer_id=reviewer_id
    )
    return {k: v for k, v in counts.items() if v}


def _erase_items(session: Session, items: list[Item]) -> dict[str, int]:
    """First-party feedback goes; a review that stays public is anonymised; notes go."""
    first_party = [i.id for i in items if i.source == "plaudit"]
    provider = [i.id for i in items if i.source != "plaudit"]
    counts: dict[str, int] = {}
    if items:
        # Before the items: a first-party item's notes would go with it, but not a review's.
        counts["notes_deleted"] = session.execute(
            delete(ItemNote).where(ItemNote.item_id.in_([i.id for i in items]))
        ).rowcount
    if first_party:
        counts["feedback_items_deleted"] = session.execute(
            delete(Item).where(Item.id.in_(first_party))
        ).rowcount
    if provider:
        counts["reviews_anonymised"] = session.execute(
            update(Item)
            .where(Item.id.in_(provider))
            .values(
                author_name=None,
                author_external_id=None,
                author_photo_url=None,
                author_anonymous=True,
                text=ERASED,
                original_text=None,
            )
        ).rowcount
    return counts


def _erase_address(session: Session, organisation_id: int, email_index: str) -> dict[str, int]:
    scoped = {"organisation_id": organisation_id}
    sent = session.scalars(
        delete(EmailMessage)
        .filter_by(**scoped, to_index=email_index)
        .returning(EmailMessage.message_id)
    ).all()
    return {
        "emails_deleted": len(sent),
        "mailbox_files_deleted": _forget_mailbox_copies(sent),
        "recipients_deleted": session.execute(
            delete(Recipient).filter_by(**scoped, email_index=email_index)
        ).rowcount,
    }


def _clear_exports(
    session: Session, organisation_id: int, *, email_index: str | None, reviewer_id: str | None
) -> int:
    """An earlier export about them is a copy of all the above."""
    subject = [
        *([DataSubjectRequest.email_index == email_index] if email_index else []),
        *([DataSubjectRequest.reviewer_id == reviewer_id] if reviewer_id else []),
    ]
    if not subject:
        return 0
    return session.execute(
        update(DataSubjectRequest)
        .where(
            DataSubjectRequest.organisation_id == organisation_id,
            DataSubjectRequest.kind == RequestKind.EXPORT,
            DataSubjectRequest.result.is_not(None),
            or_(*subject),
        )
        .values(result=None)
    ).rowcount


def _forget_mailbox_copies(message_ids: list[str]) -> int:
    """The demo's mailbox back-end keeps a file per e-mail sent: those to the person go too.
    (What an SMTP server or Postmark delivered is beyond reach.)"""
    settings = get_settings()
    if settings.email_backend != "mailbox" or not message_ids:
        return 0
    mailbox = MailboxBackend(settings.mailbox_path)
    return sum(mailbox.forget(message_id) for message_id in message_ids)


def receive(
    session: Session,
    *,
    organisation_id: int,
    kind: str,
    email: str | None = None,
    reviewer_id: str | None = None,
) -> DataSubjectRequest:
    """Record a request (due a month after receipt) and hand it to a worker."""
    now = datetime.now(UTC)
    request = DataSubjectRequest(
        organisation_id=organisation_id,
        kind=RequestKind(kind),
        email_index=crypto.blind_index(email) if email else None,
        reviewer_id=reviewer_id,
        received_at=now,
        due_at=now + DUE_AFTER,
        counts={},
    )
    session.add(request)
    session.flush()
    send_after_commit(session, PROCESS, request.id)
    return request


def process(session: Session, *, request_id: int) -> str | None:
    """Carry out a request; returns its status afterwards (None: there is no such request)."""
    request = session.get(DataSubjectRequest, request_id, with_for_update=True)
    if request is None or request.status == RequestStatus.DONE:
        return request.status if request else None
    who = {"email_index": request.email_index, "reviewer_id": request.reviewer_id}
    if request.kind == RequestKind.EXPORT:
        result = export(session, organisation_id=request.organisation_id, **who)
        request.result = json.dumps(result, ensure_ascii=False)
        request.counts = {k: len(v) for k, v in result.items() if isinstance(v, list)}
    else:
        request.counts = erase(session, organisation_id=request.organisation_id, **who)
    request.status, request.completed_at = RequestStatus.DONE, datetime.now(UTC)
    return request.status
