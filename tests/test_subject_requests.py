"""Data-subject requests: export everything held about a person, erase it everywhere."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from core.crypto import blind_index
from models import (
    Campaign,
    EmailMessage,
    Item,
    ItemNote,
    Organisation,
    Recipient,
    Suppression,
    ThreadMessage,
)
from models.base import Base
from models.privacy import DataSubjectRequest
from services.privacy.subject_requests import ERASED, export, receive
from tests.service_calls import process

NOW = datetime(2026, 3, 1, tzinfo=UTC)
CANARY_EMAIL = "canary.subject@example.com"
CANARY_NAME = "Cassandra Canary"
CANARY_TEXT = "canary feedback text 7f3a"


def everything_as_text(db) -> str:
    """Every row of every table, as PostgreSQL prints it: where plaintext would show."""
    parts = [
        db.execute(text(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM {table} t")).scalar()
        for table in Base.metadata.tables
    ]
    return " ".join(parts)


def person(db, org: Organisation, email: str, name: str, feedback: str) -> Recipient:
    campaign = Campaign(organisation_id=org.id, name="Spring")
    db.add(campaign)
    db.flush()
    item = Item(organisation_id=org.id, source="plaudit", kind="feedback",
                external_id=f"fb-{email}", author_name=name, rating=2, text=feedback,
                posted_at=NOW)  # fmt: skip
    db.add(item)
    db.flush()
    recipient = Recipient(
        organisation_id=org.id,
        campaign_id=campaign.id,
        name=name,
        email=email,
        email_index=blind_index(email),
        item_id=item.id,
        status="answered",
    )
    db.add(recipient)
    db.flush()
    email_message = EmailMessage(
        organisation_id=org.id,
        to_address=email,
        to_index=blind_index(email),
        template="feedback_request",
        context=json.dumps({"name": name}),
        message_id=f"<{uuid.uuid4().hex}@plaudit>",
        recipient_id=recipient.id,
        status="sent",
    )
    thread = ThreadMessage(
        organisation_id=org.id, item_id=item.id, direction="inbound", body=f"answer from {name}"
    )
    db.add_all([email_message, thread])
    db.commit()
    return recipient


def test_export_holds_everything_about_the_person_and_nothing_else(db):
    org, other_org = Organisation(name="Bakery"), Organisation(name="Other")
    db.add_all([org, other_org])
    db.flush()
    person(db, org, CANARY_EMAIL, CANARY_NAME, CANARY_TEXT)
    person(db, org, "someone.else@example.com", "Someone Else", "not theirs")
    person(db, other_org, CANARY_EMAIL, CANARY_NAME, "other organisation's copy")
    db.add(Suppression(organisation_id=org.id, email_index=blind_index(CANARY_EMAIL),
                       reason="unsubscribed"))  # fmt: skip
    db.commit()

    data = export(db, organisation_id=org.id, email_index=blind_index(CANARY_EMAIL))

    assert [r["email"] for r in data["feedback_requests"]] == [CANARY_EMAIL]
    assert data["feedback_requests"][0]["name"] == CANARY_NAME
    assert [i["text"] for i in data["items"]] == [CANARY_TEXT]
    assert [m["body"] for m in data["thread_messages"]] == [f"answer from {CANARY_NAME}"]
    assert [e["to"] for e in data["emails_sent"]] == [CANARY_EMAIL]
    assert data["suppression"]["reason"] == "unsubscribed"
    dumped = json.dumps(data)
    assert "someone.else" not in dumped and "other organisation" not in dumped


def test_erasure_leaves_the_person_nowhere_but_in_the_suppression_blind_index(db):
    org = Organisation(name="Bakery")
    db.add(org)
    db.flush()
    person(db, org, CANARY_EMAIL, CANARY_NAME, CANARY_TEXT)
    kept = person(db, org, "someone.else@example.com", "Someone Else", "still here")
    db.add(Suppression(organisation_id=org.id, email_index=blind_index(CANARY_EMAIL),
                       reason="unsubscribed"))  # fmt: skip
    db.commit()

    request = receive(db, organisation_id=org.id, kind="erasure", email=CANARY_EMAIL)
    db.commit()
    assert request.due_at - request.received_at == timedelta(days=30)
    assert process(request.id) == "done"

    db.expire_all()
    assert CANARY_TEXT not in everything_as_text(db)
    assert db.scalars(select(Recipient.email)).all() == [kept.email]
    assert [m.to_address for m in db.scalars(select(EmailMessage))] == [kept.email]
    assert all(CANARY_NAME not in m.body for m in db.scalars(select(ThreadMessage)))
    assert db.scalars(select(Suppression.email_index)).all() == [blind_index(CANARY_EMAIL)]
    done = db.get(DataSubjectRequest, request.id)
    assert done.counts["recipients_deleted"] == 1 and done.counts["feedback_items_deleted"] == 1


def test_erasure_by_reviewer_id_anonymises_a_review_that_stays_public(db):
    org = Organisation(name="Bakery")
    db.add(org)
    db.flush()
    db.add(Item(organisation_id=org.id, source="facebook", kind="comment", external_id="c1",
                author_name=CANARY_NAME, author_external_id="fb-user-42", rating=None,
                text=CANARY_TEXT, posted_at=NOW))  # fmt: skip
    db.commit()

    request = receive(db, organisation_id=org.id, kind="erasure", reviewer_id="fb-user-42")
    db.commit()
    process(request.id)

    db.expire_all()
    item = db.scalars(select(Item)).one()
    assert (item.author_name, item.author_external_id, item.text) == (None, None, ERASED)
    dump = everything_as_text(db)
    assert CANARY_NAME not in dump and CANARY_TEXT not in dump


def test_an_export_is_stored_encrypted(db):
    org = Organisation(name="Bakery")
    db.add(org)
    db.flush()
    person(db, org, CANARY_EMAIL, CANARY_NAME, CANARY_TEXT)
    request = receive(db, organisation_id=org.id, kind="export", email=CANARY_EMAIL)
    db.commit()
    process(request.id)

    db.expire_all()
    done = db.get(DataSubjectRequest, request.id)
    assert json.loads(done.result)["items"][0]["text"] == CANARY_TEXT
    raw = db.execute(text("SELECT result FROM data_subject_requests")).scalar()
    assert CANARY_EMAIL not in raw and CANARY_TEXT not in raw


@pytest.mark.commits  # the CLI works in a process of its own
def test_the_cli_exports_and_erases_by_address(db):
    from tests.test_cli import plaudit

    org = Organisation(name="Bakery")
    db.add(org)
    db.flush()
    person(db, org, CANARY_EMAIL, CANARY_NAME, CANARY_TEXT)

    exported = plaudit("privacy", "export", "--organisation", str(org.id), "--email", CANARY_EMAIL)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["feedback_requests"][0]["name"] == CANARY_NAME

    erased = plaudit("privacy", "erase", "--organisation", str(org.id), "--email", CANARY_EMAIL)
    assert erased.returncode == 0 and json.loads(erased.stdout)["erased"]["recipients_deleted"] == 1
    db.expire_all()
    assert CANARY_TEXT not in everything_as_text(db)

    neither = plaudit("privacy", "erase", "--organisation", str(org.id))
    assert neither.returncode == 2
    assert neither.stderr.strip() == "plaudit: give exactly one of --email or --reviewer-id"


def test_notes_on_the_persons_items_are_exported_and_erased(db):
    org = Organisation(name="Bakery")
    db.add(org)
    db.flush()
    review = Item(organisation_id=org.id, source="google", kind="review", external_id="r1",
                  author_name=CANARY_NAME, author_external_id="g-user-7", text=CANARY_TEXT,
                  posted_at=NOW)  # fmt: skip
    other = Item(organisation_id=org.id, source="google", kind="review", external_id="r2",
                 author_external_id="g-user-8", text="someone else", posted_at=NOW)  # fmt: skip
    db.add_all([review, other])
    db.flush()
    db.add_all([
        ItemNote(organisation_id=org.id, item_id=review.id, body=f"{CANARY_NAME} called"),
        ItemNote(organisation_id=org.id, item_id=other.id, body="not about them"),
    ])  # fmt: skip
    db.commit()

    exported = receive(db, organisation_id=org.id, kind="export", reviewer_id="g-user-7")
    db.commit()
    process(exported.id)
    db.expire_all()
    data = json.loads(db.get(DataSubjectRequest, exported.id).result)
    assert [n["body"] for n in data["notes"]] == [f"{CANARY_NAME} called"]

    erased = receive(db, organisation_id=org.id, kind="erasure", reviewer_id="g-user-7")
    db.commit()
    process(erased.id)
    db.expire_all()
    assert db.scalars(select(ItemNote.body)).all() == ["not about them"]
    # The earlier export was a copy of it all: it goes too.
    assert db.get(DataSubjectRequest, exported.id).result is None
    counts = db.get(DataSubjectRequest, erased.id).counts
    assert counts["notes_deleted"] == 1 and counts["exports_cleared"] == 1


def test_erasure_deletes_the_demo_mailboxs_copies_of_emails_to_the_person(
    db, tmp_path, monkeypatch
):
    from core.settings import reset_settings
    from services.email.backends import MailboxBackend

    monkeypatch.setenv("PLAUDIT_EMAIL_BACKEND", "mailbox")
    monkeypatch.setenv("PLAUDIT_MAILBOX_DIR", str(tmp_path))
    reset_settings()
    try:
        org = Organisation(name="Bakery")
        db.add(org)
        db.flush()
        person(db, org, CANARY_EMAIL, CANARY_NAME, CANARY_TEXT)
        person(db, org, "someone.else@example.com", "Someone Else", "still here")
        mailbox = MailboxBackend(tmp_path)
        files = {}
        for message in db.scalars(select(EmailMessage)):
            files[message.to_address] = mailbox.path_for(message.message_id)
            files[message.to_address].write_text(f"To: {message.to_address}\n\nHello\n")

        request = receive(db, organisation_id=org.id, kind="erasure", email=CANARY_EMAIL)
        db.commit()
        process(request.id)

        assert not files[CANARY_EMAIL].exists() and files["someone.else@example.com"].exists()
        db.expire_all()
        assert db.get(DataSubjectRequest, request.id).counts["mailbox_files_deleted"] == 1
    finally:
        monkeypatch.undo()
        reset_settings()
