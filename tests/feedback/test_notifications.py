"""Reviewer notifications, inbound answers and Postmark's bounce and spam-complaint webhooks."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from models import EmailMessage, Item, Recipient, RecipientStatus, Reply, Suppression
from services.email import links
from tests.api.conftest import error_of
from tests.feedback.conftest import WEBHOOK_SECRET
from tests.feedback.helpers import form_token, path_of, recipient, send_now
from tests.service_calls import deliver, deliver_email

AUTH = ("postmark", WEBHOOK_SECRET)


def answered_item(client, owner, db) -> Item:
    person = recipient(client, owner, db)
    url = path_of(links.feedback_url(person.id))
    token = form_token(client.get(url).text)
    client.post(url, data={"rating": "2", "comment": "Cold soup", "form_token": token})
    return db.scalars(select(Item)).one()


def test_a_reply_to_feedback_is_emailed_and_the_answer_joins_the_thread(client, owner, db, smtp):
    item = answered_item(client, owner, db)
    response = client.post(
        f"/api/v1/items/{item.id}/reply",
        json={"text": "Sorry <about> that, Ann."},
        headers={**owner.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status_code == 202, response.text
    reply_id = response.json()["reply"]["id"]

    assert deliver(reply_id) == "sent"
    assert deliver(reply_id) == "sent"  # a duplicate message sends nothing more
    [email_row] = db.scalars(select(EmailMessage)).all()
    assert deliver_email(email_row.id) == "sent"
    [message] = smtp.wait(1)
    assert message["To"] == "ann@example.com"
    assert "Sorry <about> that, Ann." in message.get_body(("plain",)).get_content()
    assert "Sorry &lt;about&gt; that, Ann." in message.get_body(("html",)).get_content()
    reply_to = message["Reply-To"].addresses[0]
    assert reply_to.domain == "inbound.plaudit.test" and reply_to.username.startswith("reply+")

    # The reviewer answers by e-mail; Postmark posts it (twice: a redelivery)
    inbound = {
        "From": "ann@example.com",
        "FromFull": {"Email": "ann@example.com", "Name": "Ann"},
        "ToFull": [{"Email": str(reply_to.addr_spec), "MailboxHash": ""}],
        "MailboxHash": reply_to.username.removeprefix("reply+"),
        "Subject": "Re: " + message["Subject"],
        "MessageID": "inbound-1",
        "TextBody": "Thanks, see you soon!\n\nOn Tue, 24 Nov 2026 Shop wrote:\n> Sorry",
        "StrippedTextReply": "",
    }
    hook = "/api/v1/webhooks/postmark/inbound"
    assert client.post(hook, json=inbound, auth=AUTH).json() == {"status": "added"}
    assert client.post(hook, json=inbound, auth=AUTH).json() == {"status": "ignored"}
    thread = client.get(f"/api/v1/items/{item.id}/thread", headers=owner.headers).json()
    assert [(m["direction"], m["body"]) for m in thread["messages"]] == [
        ("outbound", "Sorry <about> that, Ann."),
        ("inbound", "Thanks, see you soon!"),
    ]
    assert db.get(Reply, reply_id).status == "sent"


def test_inbound_mail_needs_the_secret_and_a_signed_address(client, owner, db, smtp):
    item = answered_item(client, owner, db)
    hook = "/api/v1/webhooks/postmark/inbound"
    body = {"MailboxHash": "forged.token", "TextBody": "hi", "MessageID": "m-2"}
    assert client.post(hook, json=body).status_code == 401
    wrong = client.post(hook, json=body, auth=("postmark", "guess"))
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "unauthorized"
    assert client.post(hook, json=body, auth=AUTH).json() == {"status": "ignored"}
    thread = client.get(f"/api/v1/items/{item.id}/thread", headers=owner.headers).json()
    assert thread["messages"] == []


def test_bounces_and_spam_complaints_suppress_the_address(client, owner, db, smtp):
    recipient(client, owner, db)
    send_now()
    row = db.scalars(select(EmailMessage)).one()
    row.provider_message_id = "pm-1"  # as the Postmark back-end records it
    db.commit()
    hook = "/api/v1/webhooks/postmark/bounce"
    soft = {
        "RecordType": "Bounce",
        "Type": "SoftBounce",
        "MessageID": "pm-1",
        "Email": "ann@example.com",
    }
    assert client.post(hook, json=soft, auth=AUTH).json() == {"status": "ignored"}
    hard = soft | {"Type": "HardBounce", "TypeCode": 1}
    assert client.post(hook, json=hard, auth=AUTH).json() == {"status": "suppressed"}
    complaint = {"RecordType": "SpamComplaint", "MessageID": "pm-1", "Email": "ann@example.com"}
    assert client.post(hook, json=complaint, auth=AUTH).json() == {"status": "suppressed"}

    [suppression] = db.scalars(select(Suppression)).all()
    assert (suppression.reason, suppression.blocks_transactional) == ("complained", True)
    assert db.scalars(select(Recipient.status)).one() == RecipientStatus.BOUNCED
    unknown = complaint | {"MessageID": "someone-else"}
    assert client.post(hook, json=unknown, auth=AUTH).json() == {"status": "ignored"}
