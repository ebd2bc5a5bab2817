"""E-mail through a real SMTP server on loopback: both parts, headers, unsubscribe, no secrets."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from core.crypto import blind_index
from models import EmailMessage, EmailStatus, FeedbackSettings, Organisation, Suppression
from services.email import queue_email
from tests.feedback.conftest import SMTP_PASSWORD, SMTP_USER
from tests.service_calls import attempt_expecting_a_retry, deliver_email
from tests.support import free_port


def organisation(db, name="Café <Rosa>") -> Organisation:
    org = Organisation(name=name)
    db.add(org)
    db.commit()
    return org


def queued(db, org, **overrides) -> EmailMessage:
    values = {
        "organisation_id": org.id,
        "to": "ann@example.com",
        "template": "notice",
        "context": {
            "subject": "Your password",
            "body": "Use the link <script>alert(1)</script>",
            "action_url": "http://testserver/reset/abc",
            "action_label": "Choose a new password",
        },
    }
    row = queue_email(db, **(values | overrides))
    db.commit()
    return row


def test_a_queued_email_reaches_the_smtp_server_once_with_both_parts_and_headers(
    db, smtp, sent, caplog
):
    # Given an organisation with its own logo and colour, and a queued e-mail
    org = organisation(db)
    db.add(
        FeedbackSettings(
            organisation_id=org.id, logo_url="https://cdn.test/logo.png", brand_colour="#aa3300"
        )
    )
    db.commit()
    caplog.set_level(logging.DEBUG)
    row = queued(db, org)

    # Then the row was recorded before anything was sent, and the worker was asked after commit
    assert row.status == EmailStatus.PENDING
    assert ("email.send", (row.id,)) in sent

    # When the worker runs it (twice: a duplicate message)
    assert deliver_email(row.id) == EmailStatus.SENT
    assert deliver_email(row.id) == EmailStatus.SENT

    # Then exactly one message arrived, through an authenticated session
    [message] = smtp.wait(1)
    assert smtp.logins == [SMTP_USER]
    assert smtp.envelopes == [("no-reply@plaudit.test", ["ann@example.com"])]
    assert message["Subject"] == "Your password"
    assert message["To"] == "ann@example.com"
    assert message["Message-ID"] == db.get(EmailMessage, row.id).message_id
    assert message["List-Unsubscribe"].startswith("<http://testserver/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Use the link <script>alert(1)</script>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "Café &lt;Rosa&gt;" in html and 'src="https://cdn.test/logo.png"' in html
    assert "#aa3300" in html
    assert "http://testserver/reset/abc" in text and "http://testserver/reset/abc" in html
    # And no secret travelled in the message or the logs
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert SMTP_PASSWORD not in smtp.raw[0].decode() + ours
    assert "ann@example.com" not in ours


def test_a_refused_recipient_fails_without_the_address_in_the_error(db, smtp):
    org = organisation(db)
    smtp.refuse.add("gone@example.com")
    row = queued(db, org, to="gone@example.com")

    assert deliver_email(row.id) == EmailStatus.FAILED

    stored = db.get(EmailMessage, row.id)
    db.refresh(stored)
    assert stored.last_error == "the SMTP server refused the recipient (SMTP 550)"
    assert smtp.messages == []


def test_a_server_that_is_down_leaves_the_message_pending_for_a_retry(db, smtp, configure):
    org = organisation(db)
    row = queued(db, org)
    configure(smtp_port=free_port())  # nothing listens there

    attempt_expecting_a_retry(deliver_email, "email.send", row.id)
    stored = db.get(EmailMessage, row.id)
    db.refresh(stored)
    assert (stored.status, stored.attempts) == (EmailStatus.PENDING, 1)
    assert "cannot reach the SMTP server" in stored.last_error


def test_a_suppressed_address_is_never_emailed(db, smtp):
    org = organisation(db)
    db.add(
        Suppression(
            organisation_id=org.id,
            email_index=blind_index("Ann@Example.com "),
            reason="bounced",
            blocks_transactional=True,
        )
    )
    db.commit()
    row = queued(db, org)

    assert deliver_email(row.id) == EmailStatus.SUPPRESSED
    assert smtp.messages == []
    assert db.scalar(select(EmailMessage.attempts).where(EmailMessage.id == row.id)) == 0


def test_an_unsubscribe_stops_campaign_mail_but_not_a_password_reset(db, smtp):
    org = organisation(db)
    db.add(
        Suppression(
            organisation_id=org.id,
            email_index=blind_index("ann@example.com"),
            reason="unsubscribed",
            blocks_transactional=False,
        )
    )
    db.commit()
    campaign = queued(db, org, transactional=False)
    reset = queued(db, org)

    assert deliver_email(campaign.id) == EmailStatus.SUPPRESSED
    assert deliver_email(reset.id) == EmailStatus.SENT
    assert [m["Subject"] for m in smtp.wait(1)] == ["Your password"]


def test_an_unknown_template_is_refused_when_queued(db):
    org = organisation(db)
    with pytest.raises(ValueError, match="no e-mail template"):
        queue_email(db, organisation_id=org.id, to="a@b.test", template="nope", context={})
