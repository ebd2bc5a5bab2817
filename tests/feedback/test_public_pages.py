"""The public pages without a browser: bad links, escaping, second answers, unsubscribing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from core import signed
from models import (
    EmailMessage,
    Item,
    Recipient,
    RecipientStatus,
    Suppression,
    Webhook,
    WebhookDelivery,
)
from services.email import links
from tests.feedback.helpers import GOOGLE_REVIEW_URL, form_token, path_of, recipient
from tests.service_calls import send_due_requests


def test_an_answer_becomes_an_inbox_item_and_a_second_one_updates_it(client, owner, db):
    person = recipient(client, owner, db)
    page_url = path_of(links.feedback_url(person.id))
    page = client.get(page_url)
    assert page.status_code == 200
    assert (
        '<label for="rating-2">' in page.text and '<label class="block" for="comment">' in page.text
    )
    assert "<script" not in page.text

    comment = '<script>alert("x")</script> slow service'
    sent = client.post(
        page_url,
        data={"rating": "2", "comment": comment, "form_token": form_token(page.text)},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("/thanks")
    thanks = client.get(sent.headers["location"])
    # The same public-review link for a two-star answer as for any other (no review gating)
    assert f'href="{GOOGLE_REVIEW_URL}"' in thanks.text

    item = db.scalars(select(Item)).one()
    assert (item.source, item.kind, item.connection_id, item.rating) == (
        "plaudit",
        "feedback",
        None,
        2,
    )
    # The name stays encrypted on the recipient record, never in the inbox's plain columns.
    assert item.text == comment and item.author_name is None
    inbox = client.get("/api/v1/items", headers=owner.headers).json()
    assert [i["id"] for i in inbox["items"]] == [item.id]

    # The page shows the answer escaped, and a replayed form is recognised
    again = client.get(page_url)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in again.text
    assert "<script>alert" not in again.text
    replay = client.post(
        page_url, data={"rating": "5", "comment": "", "form_token": form_token(page.text)}
    )
    assert replay.status_code == 409 and "already sent" in replay.text
    # A fresh form updates the first answer
    client.post(
        page_url, data={"rating": "4", "comment": "better", "form_token": form_token(again.text)}
    )
    db.expire_all()
    item = db.scalars(select(Item)).one()
    assert (item.rating, item.text) == (4, "better")
    assert db.scalars(select(Recipient)).one().status == RecipientStatus.ANSWERED


def test_forged_expired_and_missing_rating_get_clear_pages(client, owner, db):
    person = recipient(client, owner, db)
    good = links.feedback_url(person.id).rsplit("/", 1)[1]
    forged = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    expired = signed.sign(links.FEEDBACK, {"r": person.id}, ttl_seconds=-1)

    bad = client.get(f"/feedback/{forged}")
    assert bad.status_code == 400 and "This link is not valid" in bad.text
    old = client.get(f"/feedback/{expired}")
    assert old.status_code == 410 and "This link has expired" in old.text
    assert client.post(f"/feedback/{expired}", data={"rating": "5"}).status_code == 410
    page = client.get(f"/feedback/{good}")
    missing = client.post(f"/feedback/{good}", data={"form_token": form_token(page.text)})
    assert missing.status_code == 422 and "Please choose a rating" in missing.text
    assert db.scalars(select(Item)).all() == []


def test_one_click_unsubscribe_suppresses_the_address_and_closes_the_link(client, owner, db):
    person = recipient(client, owner, db)
    url = path_of(links.unsubscribe_url(owner.organisation.id, person.email_index))

    page = client.get(url)
    assert page.status_code == 200 and 'method="post"' in page.text
    assert db.scalars(select(Suppression)).all() == []  # a GET changes nothing
    done = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.text

    assert db.scalars(select(Suppression.reason)).all() == ["unsubscribed"]
    db.expire_all()
    assert db.get(Recipient, person.id).status == RecipientStatus.UNSUBSCRIBED
    closed = client.get(path_of(links.feedback_url(person.id)))
    assert closed.status_code == 410 and "You are unsubscribed" in closed.text
    assert client.post("/unsubscribe/forged.token").status_code == 400


def test_an_answer_stops_the_reminders(client, owner, db):
    person = recipient(client, owner, db)
    assert send_due_requests(datetime.now(UTC)) == 1  # the request; a reminder is now planned
    page_url = path_of(links.feedback_url(person.id))
    token = form_token(client.get(page_url).text)
    client.post(page_url, data={"rating": "5", "form_token": token})

    assert send_due_requests(datetime.now(UTC) + timedelta(days=30)) == 0


def test_an_answer_is_announced_to_webhooks_as_created_then_updated_and_alerts_once(
    client, owner, db
):
    db.add(Webhook(organisation_id=owner.organisation.id, url="https://hooks.example.com/x",
                   events=["item.created", "item.updated"], secret="k"))  # fmt: skip
    db.commit()
    client.put("/api/v1/alerts", json={"immediate_max_rating": 2}, headers=owner.headers)
    person = recipient(client, owner, db)
    page_url = path_of(links.feedback_url(person.id))
    first = client.get(page_url)
    client.post(page_url, data={"rating": "1", "comment": "", "form_token": form_token(first.text)})
    second = client.get(page_url)
    client.post(
        page_url, data={"rating": "3", "comment": "", "form_token": form_token(second.text)}
    )

    item = db.scalars(select(Item)).one()
    sent = db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [(d.event, d.payload["item_id"], d.payload["source"]) for d in sent] == [
        ("item.created", item.id, "plaudit"),
        ("item.updated", item.id, "plaudit"),
    ]
    alerts = db.scalars(select(EmailMessage).where(EmailMessage.template == "notice")).all()
    assert [json.loads(a.context)["subject"] for a in alerts] == ["A new 1-star feedback answer"]
