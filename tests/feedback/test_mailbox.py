"""The embedded default back-end: .eml files in a folder per organisation (and per addressee for
personal messages), read back through the API only by whom they belong to."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from core.settings import Settings
from models import EmailMessage, EmailStatus, Role
from services.email import queue_email
from tests.service_calls import deliver_email


@pytest.fixture
def mailbox(tmp_path, db, configure):
    configure(email_backend="mailbox", mailbox_dir=tmp_path / "mailbox")
    return tmp_path / "mailbox"


def test_the_mailbox_keeps_each_message_and_admins_read_it(client, owner, make_person, db, mailbox):
    row = queue_email(
        db,
        organisation_id=owner.organisation.id,
        to="ann@example.com",
        template="notice",
        context={"subject": "Welcome", "body": "Hello", "action_url": None, "action_label": None},
    )
    db.commit()

    assert deliver_email(row.id) == EmailStatus.SENT

    [path] = mailbox.glob("*/*.eml")
    stored = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert stored["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    listed = client.get("/api/v1/mailbox", headers=owner.headers).json()["messages"]
    assert [(m["name"], m["to"], m["subject"]) for m in listed] == [
        (path.name, "ann@example.com", "Welcome")
    ]
    raw = client.get(f"/api/v1/mailbox/{path.name}", headers=owner.headers)
    assert raw.headers["content-type"].startswith("message/rfc822")
    assert raw.content == path.read_bytes()
    assert client.get("/api/v1/mailbox/..%2Fsecrets.json", headers=owner.headers).status_code == 404
    viewer = make_person(Role.VIEWER, organisation=owner.organisation)
    assert client.get("/api/v1/mailbox", headers=viewer.headers).status_code == 403


def _deliver_all(db) -> None:
    db.expire_all()
    for message_id in db.scalars(select(EmailMessage.id).where(EmailMessage.status == "pending")):
        assert deliver_email(message_id) == EmailStatus.SENT


def _names(client, person) -> set[str]:
    response = client.get("/api/v1/mailbox", headers=person.headers)
    assert response.status_code == 200
    return {m["name"] for m in response.json()["messages"]}


def test_an_admin_sees_only_their_organisations_messages(client, owner, make_person, db, mailbox):
    # Given a message of another organisation in the same mailbox
    theirs = make_person(Role.OWNER)
    row = queue_email(
        db,
        organisation_id=theirs.organisation.id,
        to="customer@example.com",
        template="notice",
        context={"subject": "Theirs", "body": "x", "action_url": None, "action_label": None},
    )
    db.commit()
    _deliver_all(db)
    [path] = mailbox.glob("*/*.eml")

    # Then it is theirs alone: not listed for us, and not found by its name
    assert _names(client, theirs) == {path.name}
    assert _names(client, owner) == set()
    assert client.get(f"/api/v1/mailbox/{path.name}", headers=owner.headers).status_code == 404
    assert client.get(f"/api/v1/mailbox/{path.name}", headers=theirs.headers).status_code == 200
    assert db.get(EmailMessage, row.id).personal is False


def test_a_password_reset_link_cannot_be_read_by_any_admin(client, owner, make_person, db, mailbox):
    # Given an attacker who signed up as the owner of an organisation of their own, and a
    # colleague of the victim who administers the victim's organisation
    attacker = make_person(Role.OWNER)
    colleague = make_person(Role.ADMIN, organisation=owner.organisation)

    # When the attacker asks for a reset of the victim's password, and the e-mail is delivered
    answer = client.post("/api/v1/auth/password-reset", json={"email": owner.user.email})
    assert answer.status_code == 202
    _deliver_all(db)
    [path] = mailbox.glob("*/*.eml")
    assert b"reset-password#token=" in path.read_bytes()

    # Then neither the attacker nor the victim's own organisation's admins can read it
    for reader in (attacker, colleague):
        assert path.name not in _names(client, reader)
        assert client.get(f"/api/v1/mailbox/{path.name}", headers=reader.headers).status_code == 404
    # and the addressee alone finds it in their own mail
    assert _names(client, owner) == {path.name}
    assert client.get(f"/api/v1/mailbox/{path.name}", headers=owner.headers).status_code == 200


def test_an_invitation_link_is_for_the_invitee_only(client, owner, make_person, db, mailbox):
    admin = make_person(Role.ADMIN, organisation=owner.organisation)
    invited = client.post(
        "/api/v1/invitations",
        json={"email": "grace@example.com", "role": "responder"},
        headers=admin.headers,
    )
    assert invited.status_code == 201, invited.text
    _deliver_all(db)
    [path] = mailbox.glob("*/*.eml")
    assert db.scalars(select(EmailMessage.personal)).all() == [True]
    for reader in (owner, admin):
        assert _names(client, reader) == set()
        assert client.get(f"/api/v1/mailbox/{path.name}", headers=reader.headers).status_code == 404


def test_outside_the_demo_an_email_back_end_must_be_chosen(monkeypatch):
    monkeypatch.delenv("PLAUDIT_EMAIL_BACKEND", raising=False)
    with pytest.raises(ValidationError, match="PLAUDIT_EMAIL_BACKEND must be set"):
        Settings(embedded=False)
    assert Settings(embedded=True).email_backend == "mailbox"
    assert Settings(embedded=False, email_backend="smtp").email_backend == "smtp"


def _plaudit(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "PLAUDIT_EMAIL_BACKEND"} | env
    return subprocess.run(
        [sys.executable, "-m", "plaudit.cli", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.commits  # the scheduler runs a tick in a process of its own
def test_a_service_refuses_to_start_without_a_back_end_and_warns_of_the_mailbox(db):
    refused = _plaudit(["scheduler", "--once"])
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "plaudit: configuration error: Value error, PLAUDIT_EMAIL_BACKEND must be set "
        "(smtp or postmark; mailbox only for trials)"
    ]
    warned = _plaudit(["scheduler", "--once"], PLAUDIT_EMAIL_BACKEND="mailbox")
    assert warned.returncode == 0, warned.stderr
    assert "PLAUDIT_EMAIL_BACKEND=mailbox outside `plaudit demo`" in warned.stderr
