"""PII canaries through the first-party paths: a recipient upload, a feedback answer, a reply
e-mailed to the reviewer and their e-mailed answer. Nothing may be stored in clear text; the
recipient's address and name live only in encrypted columns and the blind index."""

from __future__ import annotations

import random
import uuid

from sqlalchemy import select

from models import EmailMessage, Item, Recipient
from services.email import links
from tests.api.conftest import PASSWORD
from tests.feedback.conftest import WEBHOOK_SECRET
from tests.feedback.helpers import campaign, form_token, location, path_of, upload_csv
from tests.service_calls import deliver, deliver_email
from tests.test_pii_canary import database_as_text, luhn_card


def test_first_party_canaries_are_nowhere_in_clear_text(client, owner, db, smtp):

    tag = uuid.uuid4().hex[:10]
    email, name = f"canary.{tag}@example.com", f"Canary{tag.capitalize()}"
    card, phone = (
        luhn_card(random.Random(tag)),
        f"+44 20 7946 {random.Random(tag).randint(1000, 9999)}",
    )

    # A recipient upload, then the customer's answer on the public page
    campaign_id = campaign(client, owner, location(db, owner.organisation.id).id)
    upload_csv(client, owner, campaign_id, f"name,email\n{name},{email}\n")
    person = db.scalars(select(Recipient)).one()
    url = path_of(links.feedback_url(person.id))
    token = form_token(client.get(url).text)
    comment = f"Card {card} charged twice, call {phone} or {email}"
    client.post(url, data={"rating": "1", "comment": comment, "form_token": token})
    item = db.scalars(select(Item)).one()

    # The business replies; the reviewer is e-mailed and answers by e-mail
    reply = client.post(
        f"/api/v1/items/{item.id}/reply", json={"text": "So sorry, we will refund you."},
        headers={**owner.headers, "Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    assert reply.status_code == 202, reply.text
    assert deliver(reply.json()["reply"]["id"]) == "sent"
    email_row = db.scalars(select(EmailMessage)).one()
    assert deliver_email(email_row.id) == "sent"
    [message] = smtp.wait(1)
    reply_to = message["Reply-To"].addresses[0]
    inbound = {
        "From": email,
        "FromFull": {"Email": email, "Name": name},
        "ToFull": [{"Email": str(reply_to.addr_spec), "MailboxHash": ""}],
        "MailboxHash": reply_to.username.removeprefix("reply+"),
        "Subject": "Re: " + message["Subject"],
        "MessageID": f"inbound-{tag}",
        "TextBody": f"My card is {card} and my number {phone}",
        "StrippedTextReply": "",
    }
    added = client.post(
        "/api/v1/webhooks/postmark/inbound", json=inbound, auth=("postmark", WEBHOOK_SECRET)
    )
    assert added.json() == {"status": "added"}

    stored = database_as_text(db)
    for kind, value in {"email": email, "name": name, "card": card, "phone": phone}.items():
        assert value not in stored, f"the {kind} canary is stored in clear text"
    # The e-mail went to the customer, and carried none of what they typed.
    body = message.get_body(("plain",)).get_content()
    assert card not in body and phone not in body
    assert PASSWORD not in stored
    thread = client.get(f"/api/v1/items/{item.id}/thread", headers=owner.headers).json()
    assert "[redacted:card]" in thread["messages"][-1]["body"]
