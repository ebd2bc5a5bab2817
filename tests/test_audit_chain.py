"""The audit log is append-only and tamper-evident."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.audit_chain import verify_chain
from models import AuditEvent
from models.db import get_engine
from tests.test_cli import plaudit

# The chain is numbered by a sequence from 1 and checked by `plaudit audit verify` in a process
# of its own: it needs real commits on an emptied table.
pytestmark = pytest.mark.commits


def write_events(db, count: int = 5) -> None:
    for n in range(count):
        db.add(
            AuditEvent(
                organisation_id=1,
                actor_user_id=2,
                action="reply.created",
                target_type="reply",
                target_id=str(n),
                ip="127.0.0.1",
                details={"n": n},
            )
        )
        db.commit()


def verify():
    with get_engine().connect() as conn:
        return verify_chain(conn)


def as_superuser(db, statement: str) -> None:
    """What an attacker with database access would do, going around the trigger."""
    db.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    db.execute(text(statement))
    db.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
    db.commit()


def test_entries_are_chained_and_the_chain_verifies(db):
    write_events(db)
    rows = db.execute(text("SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq")).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == "0" * 64
    assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 5))
    assert verify().ok and verify().checked == 5
    result = plaudit("audit", "verify")
    assert result.returncode == 0 and "5 entries" in result.stdout


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET action = 'nothing' WHERE seq = 2", "DELETE FROM audit_events"],
)
def test_the_database_refuses_updates_and_deletes(db, statement):
    write_events(db, 2)
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text(statement))
    db.rollback()
    assert verify().ok


def test_a_changed_entry_is_detected(db):
    write_events(db)
    as_superuser(db, """UPDATE audit_events SET details = '{"n": 99}' WHERE seq = 3""")

    report = verify()

    assert not report.ok and report.broken_at == 3
    result = plaudit("audit", "verify")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "plaudit: audit log tampered: entry 3: its contents do not match its hash"
    )


def test_a_removed_entry_is_detected(db):
    write_events(db)
    as_superuser(db, "DELETE FROM audit_events WHERE seq = 4")
    report = verify()
    assert report.broken_at == 5 and "missing" in report.reason


def test_a_forged_rechained_entry_is_detected(db):
    # Rewriting a row's hash to match its new contents still breaks the next row's link.
    write_events(db)
    as_superuser(
        db,
        "UPDATE audit_events SET action = 'forged', hash = audit_event_hash(prev_hash, "
        "organisation_id, actor_user_id, 'forged', target_type, target_id, ip, details, "
        "created_at) WHERE seq = 2",
    )
    report = verify()
    assert report.broken_at == 3 and "link" in report.reason


def test_retention_may_remove_the_oldest_entries_and_the_rest_still_verifies(db):
    write_events(db)
    db.execute(text("SET LOCAL plaudit.audit_retention = 'on'"))
    db.execute(text("DELETE FROM audit_events WHERE seq <= 2"))
    db.commit()
    assert verify().ok and verify().checked == 3
