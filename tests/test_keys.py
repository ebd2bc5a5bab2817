"""Key rotation: add a key, re-encrypt in batches while the service runs, retire the old key."""

from __future__ import annotations

import os
import threading

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from core import crypto
from models import Connection, Item, Reply, User
from services.privacy.keys import BATCH, encrypted_columns, key_usage
from tests.fixtures import connect_google
from tests.service_calls import deliver, rotate_all, sync
from tests.test_cli import plaudit
from tests.workers.test_sync import admin


@pytest.fixture
def old_and_new_key(configure):
    """The run's key and a new one; the test may configure either, and gets the run's back."""
    return os.environ["PLAUDIT_ENCRYPTION_KEYS"], Fernet.generate_key().decode()


def test_every_encrypted_column_is_found():
    found = set(encrypted_columns())
    assert {
        ("users", "email"),
        ("connections", "access_token"),
        ("connections", "refresh_token"),
    } <= found


@pytest.mark.commits  # a sync and a delivery race the rotation in threads
def test_rotation_re_encrypts_everything_and_the_old_key_can_go(
    db, sandbox, old_and_new_key, configure
):
    old, new = old_and_new_key
    connection = connect_google(db)
    for n in range(BATCH + 5):  # more than one batch
        db.add(User(email=f"u{n}@example.com", email_index=f"i{n}", password_hash="x"))
    db.commit()
    old_id = crypto.key_id(old)

    # Given a new key put first
    configure(encryption_keys=f"{new},{old}")
    result = plaudit("keys", "status", PLAUDIT_ENCRYPTION_KEYS=f"{new},{old}")
    assert f"key {old_id} (old)" in result.stdout and "in use" in result.stdout

    # When the rotation runs while a sync writes tokens and a reply is being sent
    sync(connection.id, "google_reviews")
    item = db.scalars(select(Item).where(Item.reply_text.is_(None))).first()
    reply = Reply(organisation_id=item.organisation_id, item_id=item.id, body="Thanks!",
                  idempotency_key="k")  # fmt: skip
    db.add(reply)
    db.commit()
    admin(sandbox, "POST", "/google/expire-access-tokens")  # the sync must refresh and save
    work = [
        threading.Thread(target=sync, args=(connection.id, "google_reviews")),
        threading.Thread(target=deliver, args=(reply.id,)),
    ]
    for thread in work:
        thread.start()
    progress: list[tuple[int, int]] = []
    done = rotate_all(lambda d, t: progress.append((d, t)))
    for thread in work:
        thread.join()
    rotate_all()  # resumable: picks up rows that were locked by the sync or the reply

    # Then no value uses the old key, and everything still reads back with the new key alone
    assert done >= BATCH + 5 and progress[-1][0] == done
    usage = key_usage(db)
    assert all(set(counts) <= {crypto.key_id(new)} for counts in usage.values())
    configure(encryption_keys=new)
    db.expire_all()
    assert db.get(Connection, connection.id).refresh_token
    assert db.get(Reply, reply.id).status == "sent"  # nothing lost
    assert len([u.email for u in db.scalars(select(User))]) == BATCH + 6
    result = plaudit("keys", "status", PLAUDIT_ENCRYPTION_KEYS=new)
    assert result.returncode == 0 and f"{old_id}" not in result.stdout


@pytest.mark.commits  # `plaudit keys status` reads in a process of its own
def test_a_value_under_a_key_that_is_not_configured_is_a_clear_error(
    db, old_and_new_key, configure
):
    old, new = old_and_new_key
    db.add(User(email="a@example.com", email_index="x", password_hash="x"))
    db.commit()
    configure(encryption_keys=new)
    db.expire_all()
    message = f"cannot decrypt users.email: key {crypto.key_id(old)} is not configured"
    with pytest.raises(crypto.DecryptionError, match=message):
        _ = db.scalars(select(User)).one().email
    result = plaudit("keys", "status", PLAUDIT_ENCRYPTION_KEYS=new)
    assert result.returncode == 1 and "NOT CONFIGURED" in result.stderr


def test_ciphertexts_carry_their_key_id_and_no_plaintext(db):
    db.add(User(email="plain@example.com", email_index="y", password_hash="x"))
    db.commit()
    stored = db.execute(text("SELECT email FROM users")).scalar()
    assert stored.startswith(crypto.keyring().primary + ":")
    assert "plain@example.com" not in stored


def test_owners_follow_a_rotation_over_their_organisations_data(db, old_and_new_key, configure):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from models import Membership, Organisation, Role
    from services.accounts.tokens import issue_token

    old, new = old_and_new_key
    org = Organisation(name="Bakery")
    user = User(email="o@example.com", email_index="o", name="Olive", password_hash="x")
    db.add(Membership(organisation=org, user=user, role=Role.OWNER))
    db.commit()
    token, _ = issue_token(user_id=user.id, organisation_id=org.id)
    headers = {"Authorization": f"Bearer {token}"}
    configure(encryption_keys=f"{new},{old}")

    with TestClient(create_app()) as client:
        before = client.get("/api/v1/privacy/encryption", headers=headers).json()
        rotate_all()
        after = client.get("/api/v1/privacy/encryption", headers=headers).json()

    assert before["current_key"] == crypto.key_id(new)
    assert before["values"] == 2 and before["values_on_old_keys"] == 2  # address and name
    assert not before["rotation_done"]
    assert after["values_on_old_keys"] == 0 and after["rotation_done"]
