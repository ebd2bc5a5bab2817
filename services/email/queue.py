"""Queueing an e-mail: a row in the outbox now, a message to the worker after the commit."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.crypto import blind_index
from core.settings import get_settings
from models import EmailMessage, EmailStatus
from services.email.compose import template_exists
from services.jobs import send_after_commit

SEND = "email.send"  # the actor that delivers a queued message


def queue_email(
    session: Session,
    *,
    organisation_id: int,
    to: str,
    template: str,
    context: dict[str, Any],
    transactional: bool = True,
    reply_to: str | None = None,
    recipient_id: int | None = None,
    personal: bool = False,
) -> EmailMessage:
    """Queue one message. ``personal``: for the addressee's eyes only (password resets,
    invitations, sign-up notices) — no one of the organisation can read it back."""
    [message] = queue_emails(
        session,
        [
            Outgoing(
                organisation_id=organisation_id,
                to=to,
                template=template,
                context=context,
                transactional=transactional,
                reply_to=reply_to,
                recipient_id=recipient_id,
                personal=personal,
            )
        ],
    )
    return message


@dataclass(frozen=True)
class Outgoing:
    """The arguments of ``queue_email``, for queueing many in one flush."""

    organisation_id: int
    to: str
    template: str
    context: dict[str, Any]
    transactional: bool = True
    reply_to: str | None = None
    recipient_id: int | None = None
    personal: bool = False


def queue_emails(session: Session, outgoing: list[Outgoing]) -> list[EmailMessage]:
    for each in outgoing:
        if not template_exists(each.template):
            raise ValueError(f"no e-mail template named {each.template!r}")
    messages = [
        EmailMessage(
            organisation_id=each.organisation_id,
            to_address=each.to,
            to_index=blind_index(each.to),
            template=each.template,
            context=json.dumps(each.context),
            stream="transactional" if each.transactional else "feedback",
            reply_to=each.reply_to,
            message_id=new_message_id(),
            recipient_id=each.recipient_id,
            personal=each.personal,
            status=EmailStatus.PENDING,
            attempts=0,
        )
        for each in outgoing
    ]
    session.add_all(messages)
    session.flush()  # one flush for the batch: the ids are what the worker is sent
    for message in messages:
        send_after_commit(session, SEND, message.id)
    return messages


def new_message_id() -> str:
    sender = get_settings().mail_from
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"
