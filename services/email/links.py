"""The signed links and addresses that go out in e-mails, and reading them back."""

from __future__ import annotations

from core import signed
from core.settings import get_settings

FEEDBACK = "feedback"
FEEDBACK_FORM = "feedback-form"
UNSUBSCRIBE = "unsubscribe"
REPLY = "reply"


def _public(path: str) -> str:
    return get_settings().public_url.rstrip("/") + path


def feedback_url(recipient_id: int) -> str:
    ttl = get_settings().feedback_link_ttl_days * 86400
    return _public("/feedback/" + signed.sign(FEEDBACK, {"r": recipient_id}, ttl_seconds=ttl))


def unsubscribe_url(organisation_id: int, email_index: str) -> str:
    # No expiry: an unsubscribe link must work for as long as the e-mail is kept.
    return _public(
        "/unsubscribe/" + signed.sign(UNSUBSCRIBE, {"o": organisation_id, "e": email_index})
    )


def reply_address(item_id: int) -> str | None:
    """``reply+<token>@<inbound domain>``: Postmark hands us the token as the MailboxHash."""
    domain = get_settings().inbound_domain
    if not domain:
        return None
    return f"reply+{signed.sign(REPLY, {'i': item_id})}@{domain}"
