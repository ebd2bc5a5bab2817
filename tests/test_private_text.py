"""Notes, outbox reply bodies and recipients' external references: encrypted at rest, existing
rows encrypted by migration 0013 (notes redacted as well), and covered by key rotation."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from core import crypto
from models import Campaign, Item, ItemNote, Organisation, Recipient, Reply
from models.db import get_engine
from models.migrate import alembic_config
from services.privacy.keys import encrypted_columns, key_usage
from tests.service_calls import rotate_all

NEW = {("item_notes", "body"), ("replies", "body"), ("feedback_recipients", "external_ref")}


def _raw(db) -> tuple[str, str, str]:
    return tuple(
        db.execute(
            text(
                "SELECT (SELECT body FROM item_notes), (SELECT body FROM replies), "
                "(SELECT external_ref FROM feedback_recipients)"
            )
        ).one()
    )


def test_key_rotation_knows_the_new_encrypted_columns(db):
    assert set(encrypted_columns()) >= NEW


@pytest.mark.commits  # the migrations run on their own connection and alter tables
def test_the_migration_encrypts_rows_written_in_clear_and_redacts_old_notes(db, configure):
    organisation = Organisation(name="Old data")
    db.add(organisation)
    db.flush()
    item = Item(organisation_id=organisation.id, source="google", kind="review",
                external_id="r1", posted_at=datetime.now(UTC))  # fmt: skip
    campaign = Campaign(organisation_id=organisation.id, name="Spring")
    db.add_all([item, campaign])
    db.flush()
    db.add_all([
        ItemNote(organisation_id=organisation.id, item_id=item.id, body="Called back"),
        Reply(organisation_id=organisation.id, item_id=item.id, body="Thanks!",
              idempotency_key="k1"),
        Recipient(organisation_id=organisation.id, campaign_id=campaign.id, name="Ann",
                  email="ann@example.com", email_index="i1", external_ref="CRM-1"),
    ])  # fmt: skip
    db.commit()
    primary = crypto.keyring().primary
    assert all(value.startswith(primary + ":") for value in _raw(db))
    db.close()
    get_engine().dispose()  # no open connection may hold a lock the migration needs

    config = alembic_config()
    try:
        # Before 0013 (what a database upgraded from an earlier release holds): clear text.
        command.downgrade(config, "0012")
        with get_engine().begin() as conn:
            assert tuple(conn.execute(text(
                "SELECT (SELECT body FROM item_notes), (SELECT body FROM replies), "
                "(SELECT external_ref FROM feedback_recipients)"
            )).one()) == ("Called back", "Thanks!", "CRM-1")  # fmt: skip
            conn.execute(text("UPDATE item_notes SET body = 'Card 4111 1111 1111 1111, ok'"))
    finally:
        command.upgrade(config, "head")
        get_engine().dispose()

    # After it: every value encrypted under the first key, readable, the old note redacted.
    assert all(value.startswith(primary + ":") for value in _raw(db))
    assert db.scalars(select(ItemNote.body)).one() == "Card [redacted:card], ok"
    assert db.scalars(select(Reply.body)).one() == "Thanks!"
    assert db.scalars(select(Recipient.external_ref)).one() == "CRM-1"
    usage = key_usage(db)
    assert all(usage[f"{table}.{column}"] == {primary: 1} for table, column in NEW)

    # And `plaudit keys rotate` re-encrypts them under a new first key.
    old = os.environ["PLAUDIT_ENCRYPTION_KEYS"]
    configure(encryption_keys=f"{Fernet.generate_key().decode()},{old}")
    rotate_all()
    usage = key_usage(db)
    new = crypto.keyring().primary
    assert all(usage[f"{table}.{column}"] == {new: 1} for table, column in NEW)
    db.expire_all()
    assert db.scalars(select(ItemNote.body)).one() == "Card [redacted:card], ok"
