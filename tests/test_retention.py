"""Retention: each data class is erased when, and only when, its organisation's policy says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.audit_chain import verify_chain
from models import AuditEvent, Connection, Item, Organisation, SyncRun
from models.db import get_engine
from models.privacy import RetentionPolicy, RetentionRun
from tests.service_calls import enqueue_retention_if_due as enqueue_if_due
from tests.service_calls import erase_expired, run_retention

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def organisation(db, name="Org", status="active") -> tuple[Organisation, Connection]:
    org = Organisation(name=name)
    db.add(org)
    db.flush()
    connection = Connection(
        organisation_id=org.id, provider="google", status=status, capabilities={}
    )
    db.add(connection)
    db.flush()
    return org, connection


def run_at(db, connection: Connection, when: datetime, label: str) -> None:
    db.add(SyncRun(connection_id=connection.id, capability=label, started_at=when))


def remaining_runs(db) -> set[str]:
    db.expire_all()
    return set(db.scalars(select(SyncRun.capability)))


def test_sync_runs_go_after_30_days_by_default_and_at_an_organisations_own_limit(db):
    _, default = organisation(db, "Default")
    own_org, own = organisation(db, "Own")
    db.add(RetentionPolicy(organisation_id=own_org.id, data_class="sync_runs", days=7))
    run_at(db, default, NOW - timedelta(days=30) - SECOND, "default-expired")
    run_at(db, default, NOW - timedelta(days=30) + SECOND, "default-kept")
    run_at(db, own, NOW - timedelta(days=7) - SECOND, "own-expired")
    run_at(db, own, NOW - timedelta(days=7) + SECOND, "own-kept")
    db.commit()

    erased = erase_expired(NOW)

    assert erased == {"sync_runs": 2}
    assert remaining_runs(db) == {"default-kept", "own-kept"}


def test_first_party_feedback_is_kept_until_erased_unless_a_policy_says_otherwise(db):
    org, _ = organisation(db)
    ancient = NOW - timedelta(days=3650)
    for source in ("plaudit", "google"):
        db.add(
            Item(organisation_id=org.id, source=source, kind="feedback", external_id=source,
                 posted_at=ancient)
        )  # fmt: skip
    db.commit()

    assert erase_expired(NOW) == {}
    db.add(RetentionPolicy(organisation_id=org.id, data_class="first_party_feedback", days=365))
    db.commit()
    assert erase_expired(NOW) == {"items": 1}
    assert db.scalars(select(Item.source)).all() == ["google"]


def test_a_disconnected_connection_goes_with_its_data_after_30_days(db):
    _, gone = organisation(db, status="disconnected")
    _, active = organisation(db, status="active")
    for connection in (gone, active):
        db.add(
            Item(organisation_id=connection.organisation_id, connection_id=connection.id,
                 source="google", kind="review", external_id="r", posted_at=NOW)
        )  # fmt: skip
    db.flush()
    gone.updated_at = NOW - timedelta(days=30) - SECOND
    active.updated_at = NOW - timedelta(days=400)
    db.commit()

    assert erase_expired(NOW) == {"connections": 1}
    db.expire_all()
    assert db.scalars(select(Item.connection_id)).all() == [active.id]


def test_audit_events_go_after_a_year_and_the_chain_still_verifies(db):
    org, _ = organisation(db)
    for days, action in ((366, "old"), (364, "recent"), (1, "new")):
        db.add(AuditEvent(organisation_id=org.id, action=action,
                          created_at=NOW - timedelta(days=days), details={}))  # fmt: skip
        db.commit()

    assert erase_expired(NOW) == {"audit_events": 1}
    assert db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all() == ["recent", "new"]
    with get_engine().connect() as conn:
        assert verify_chain(conn).ok


def test_retention_runs_once_a_day_and_records_what_it_erased(db):
    _, connection = organisation(db)
    run_at(db, connection, datetime.now(UTC) - timedelta(days=40), "expired")
    db.commit()

    assert enqueue_if_due(datetime.now(UTC)) is True
    assert enqueue_if_due(datetime.now(UTC)) is False  # a second scheduler, the same day
    run = db.scalars(select(RetentionRun)).one()
    run_retention(run.id)

    db.expire_all()
    run = db.get(RetentionRun, run.id)
    assert run.erased == {"sync_runs": 1} and run.finished_at is not None
    assert db.scalar(select(func.count()).select_from(SyncRun)) == 0


def test_disconnecting_deletes_the_tokens_at_once_and_the_data_after_30_days(db, sandbox):
    from fastapi.testclient import TestClient
    from sqlalchemy import text as sql

    from api.app import create_app
    from models import Membership, Role, User
    from services.accounts.tokens import issue_token
    from tests.fixtures import connect_google
    from tests.service_calls import sync

    connection = connect_google(db)
    sync(connection.id, "google_reviews")
    user = db.scalars(select(User)).one()
    token, _ = issue_token(user_id=user.id, organisation_id=connection.organisation_id)
    assert db.scalars(select(Membership.role)).one() == Role.OWNER

    with TestClient(create_app()) as client:
        response = client.delete(
            f"/api/v1/connections/{connection.id}", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disconnected"
    row = db.execute(sql("SELECT access_token, refresh_token FROM connections")).one()
    assert row == (None, None)
    assert db.scalar(select(func.count()).select_from(Item)) > 0  # the data stays for now

    later = datetime.now(UTC) + timedelta(days=31)
    assert erase_expired(later).get("connections") == 1
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Item)) == 0
