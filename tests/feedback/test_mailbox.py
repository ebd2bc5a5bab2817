"""The embedded default back-end: .eml files in a folder, read back through the API."""

from __future__ import annotations

import email
import email.policy
import os

import pytest

from models import EmailStatus, Role
from plaudit.email import queue_email
from tests.support import set_env
from workers.email import deliver_email


@pytest.fixture
def mailbox(tmp_path, db):
    keys = ("EMAIL_BACKEND", "MAILBOX_DIR")
    before = {k: os.environ.get(f"PLAUDIT_{k}") for k in keys}
    set_env(email_backend="mailbox", mailbox_dir=tmp_path / "mailbox")
    try:
        yield tmp_path / "mailbox"
    finally:
        for key, value in before.items():
            os.environ.pop(f"PLAUDIT_{key}", None)
            if value is not None:
                os.environ[f"PLAUDIT_{key}"] = value
        set_env()


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

    [path] = mailbox.glob("*.eml")
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
