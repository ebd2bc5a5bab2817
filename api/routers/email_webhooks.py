"""Postmark's webhooks: inbound replies from reviewers, bounces and spam complaints.

Postmark authenticates with HTTP basic credentials in the webhook URL; the password must be
``PLAUDIT_EMAIL_WEBHOOK_SECRET``, and without that setting the webhooks do not exist. Anything
that cannot be matched is acknowledged and ignored, so Postmark does not retry it forever.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel
from sqlalchemy import select, update

from api.deps import SessionDep
from api.errors import ApiError, ErrorResponse
from api.services import threads
from models import EmailMessage, Recipient, RecipientStatus, SuppressionReason
from plaudit import signed
from plaudit.crypto import blind_index
from plaudit.settings import get_settings
from services.email import links
from services.email.policy import suppress

log = logging.getLogger(__name__)
router = APIRouter(
    prefix="/webhooks/postmark",
    tags=["webhooks"],
    responses={
        401: {"model": ErrorResponse, "description": "Missing or wrong webhook credentials"},
        404: {"model": ErrorResponse, "description": "Webhooks are not configured"},
    },
)
_basic = HTTPBasic(auto_error=False)
# Postmark bounce types after which an address must not be tried again.
HARD_BOUNCES = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "SpamComplaint"}


def _authenticated(
    credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> None:
    secret = get_settings().email_webhook_secret.get_secret_value()
    if not secret:
        raise ApiError(404, "not_found", "Not found")
    if credentials is None or not hmac.compare_digest(
        credentials.password.encode(), secret.encode()
    ):
        raise ApiError(
            401,
            "unauthorized",
            "Webhook credentials required",
            headers={"WWW-Authenticate": "Basic"},
        )


Authenticated = Annotated[None, Depends(_authenticated)]


class WebhookOut(BaseModel):
    status: str  # "added", "suppressed" or "ignored"


def _reply_token(payload: dict[str, Any]) -> str | None:
    if payload.get("MailboxHash"):
        return str(payload["MailboxHash"])
    addresses = [str(payload.get("OriginalRecipient") or "")]
    addresses += [
        str(a.get("Email") or "") for a in payload.get("ToFull") or [] if isinstance(a, dict)
    ]
    for address in addresses:
        local = address.split("@")[0]
        if local.startswith("reply+"):
            return local.removeprefix("reply+")
    return None


@router.post("/inbound", summary="A reviewer's answer to a reply notification (Postmark inbound)")
def inbound(payload: dict[str, Any], _: Authenticated, session: SessionDep) -> WebhookOut:
    token = _reply_token(payload)
    try:
        claims = signed.verify(links.REPLY, token or "")
    except signed.BadToken:
        log.info("inbound e-mail ignored: no valid reply address")
        return WebhookOut(status="ignored")
    body = str(payload.get("StrippedTextReply") or "").strip() or threads.strip_quoted(
        str(payload.get("TextBody") or "")
    )
    message_id = str(payload.get("MessageID") or "") or None
    added = threads.add_inbound(
        session, item_id=int(claims["i"]), body=body.replace("\x00", ""), message_id=message_id
    )
    return WebhookOut(status="added" if added else "ignored")


@router.post("/bounce", summary="A bounce or spam complaint (Postmark's bounce and spam hooks)")
def bounce(payload: dict[str, Any], _: Authenticated, session: SessionDep) -> WebhookOut:
    record = str(payload.get("RecordType") or "")
    kind = str(payload.get("Type") or "")
    complaint = record == "SpamComplaint" or kind == "SpamComplaint"
    if not complaint and kind not in HARD_BOUNCES:
        return WebhookOut(status="ignored")  # a soft bounce: later messages may get through
    message = session.scalar(
        select(EmailMessage).where(
            EmailMessage.provider_message_id == str(payload.get("MessageID") or "")
        )
    )
    address = str(payload.get("Email") or "")
    if message is None or not address:
        return WebhookOut(status="ignored")
    index = blind_index(address)
    reason = SuppressionReason.COMPLAINED if complaint else SuppressionReason.BOUNCED
    suppress(session, organisation_id=message.organisation_id, email_index=index, reason=reason)
    status = RecipientStatus.UNSUBSCRIBED if complaint else RecipientStatus.BOUNCED
    session.execute(
        update(Recipient)
        .where(
            Recipient.organisation_id == message.organisation_id,
            Recipient.email_index == index,
            Recipient.status.in_([RecipientStatus.QUEUED, RecipientStatus.SENT]),
        )
        .values(status=status, next_send_at=None)
    )
    return WebhookOut(status="suppressed")
