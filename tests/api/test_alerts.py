"""Alerts: each member's choice of immediate e-mails for low ratings and a daily digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import EmailMessage, Item, Role
from services.alerts import alert_new_items
from tests.api.conftest import Person
from tests.service_calls import send_due_digests


def _emails(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(EmailMessage))


def test_immediate_alerts_go_to_members_whose_threshold_the_rating_meets(
    client: TestClient,
    db: Session,
    owner: Person,
    make_person: Callable[..., Person],
    make_item: Callable[..., Item],
):
    strict = make_person(Role.MANAGER, organisation=owner.organisation)
    client.put("/api/v1/alerts", json={"immediate_max_rating": 3}, headers=owner.headers)
    client.put("/api/v1/alerts", json={"immediate_max_rating": 1}, headers=strict.headers)
    assert client.get("/api/v1/alerts", headers=strict.headers).json() == {
        "immediate_max_rating": 1,
        "daily_digest": False,
    }
    ones, two, five = (make_item(owner.organisation, rating=r) for r in (1, 2, 5))

    queued = alert_new_items(
        db, organisation_id=owner.organisation.id, item_ids=[ones.id, two.id, five.id]
    )
    db.commit()

    assert queued == 3  # the 1-star to both, the 2-star to the owner only
    assert _emails(db) == 3


def test_the_daily_digest_is_sent_once_a_day(
    client: TestClient, db: Session, owner: Person, make_item: Callable[..., Item]
):
    client.put("/api/v1/alerts", json={"daily_digest": True}, headers=owner.headers)
    make_item(owner.organisation, rating=4)
    now = datetime.now(UTC) + timedelta(minutes=1)

    assert send_due_digests(now) == 1
    assert send_due_digests(now + timedelta(hours=1)) == 0
    assert send_due_digests(now + timedelta(days=1)) == 1
    assert _emails(db) == 1  # the second day had nothing new, so nothing was sent
