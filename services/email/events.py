"""What Postmark tells us about our e-mail: reviewers' answers, bounces and spam complaints.

Anything that cannot be matched is ignored (and acknowledged by the route), so Postmark does not
retry it forever. Each function returns what became of the event: "added", "suppressed" or
"ignored".
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import signed
from core.crypto import blind_index
from models import EmailMessage, Recipient, RecipientStatus, SuppressionReason
from services.email import links
from services.email.policy import suppress
from services.inbox import threads

log = logging.getLogger(__name__)
# Postmark bounce types after which an address must not be tried again.
HARD_BOUNCES = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "SpamComplaint"}


def inbound(session: Session, *, payload: dict[str, Any]) -> str:
    """A reviewer's answer to a reply notification, added to the item's thread."""
    token = _reply_token(payload)
    try:
        claims = signed.verify(links.REPLY, token or "")
    except signed.BadToken:
        log.info("inbound e-mail ignored: no valid reply address")
        return "ignored"
    body = str(payload.get("StrippedTextReply") or "").strip() or threads.strip_quoted(
        str(payload.get("TextBody") or "")
    )
    message_id = str(payload.get("MessageID") or "") or None
    added = threads.add_inbound(
        session, item_id=int(claims["i"]), body=body.replace("\x00", ""), message_id=message_id
    )
    return "added" if added else "ignored"


def bounce(session: Session, *, payload: dict[str, Any]) -> str:
    """A hard bounce or a complaint suppresses the address in the sender's organisation and
    stops its pending feedback requests; a soft bounce changes nothing."""
    record = str(payload.get("RecordType") or "")
    kind = str(payload.get("Type") or "")
    complaint = record == "SpamComplaint" or kind == "SpamComplaint"
    if not complaint and kind not in HARD_BOUNCES:
        return "ignored"  # a soft bounce: later messages may get through
    message = session.scalar(
        select(EmailMessage).where(
            EmailMessage.provider_message_id == str(payload.get("MessageID") or "")
        )
    )
    address = str(payload.get("Email") or "")
    if message is None or not address:
        return "ignored"
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
    return "suppressed"


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
