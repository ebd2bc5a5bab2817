"""Analytics in SQL, and the streamed CSV export of an inbox filter."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from models import Item
from tests.api.conftest import Person

DAY = datetime(2025, 3, 3, 12, tzinfo=UTC)  # a Monday


def test_analytics_by_week_with_reply_rate_and_times(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    hour = timedelta(hours=1)
    make_item(
        owner.organisation, rating=5, posted_at=DAY, reply_text="x", reply_updated_at=DAY + hour
    )
    make_item(
        owner.organisation,
        rating=3,
        posted_at=DAY + timedelta(days=1),
        reply_text="x",
        reply_updated_at=DAY + timedelta(days=1) + 3 * hour,
    )
    make_item(owner.organisation, rating=1, posted_at=DAY + timedelta(days=7))
    make_item(owner.organisation, rating=4, posted_at=DAY - timedelta(days=30))  # out of range

    response = client.get(
        "/api/v1/analytics",
        params={"period": "week", "since": "2025-03-01", "until": "2025-03-31"},
        headers=owner.headers,
    )

    body = response.json()
    assert [(p["period_start"][:10], p["count"], p["average_rating"]) for p in body["series"]] == [
        ("2025-03-03", 2, 4.0),
        ("2025-03-10", 1, 1.0),
    ]
    assert body["rating_distribution"] == {"1": 1, "3": 1, "5": 1}
    assert (body["total"], body["replied"], body["reply_rate"]) == (3, 2, 0.6667)
    # Whole days over the whole organisation: reply times from the rollups' buckets, within 5 %
    assert body["reply_times_estimated"] is True
    assert body["median_seconds_to_reply"] == pytest.approx(2 * 3600, rel=0.05)
    assert body["p90_seconds_to_reply"] == pytest.approx(3600 + 0.9 * 2 * 3600, rel=0.05)


def test_analytics_by_day_and_month_with_unrated_deleted_and_removed_replies(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    hour = timedelta(hours=1)
    next_day, next_month = DAY + timedelta(days=1), DAY + timedelta(days=40)
    org = owner.organisation
    make_item(org, rating=5, posted_at=DAY, reply_text="x", reply_updated_at=DAY + hour)
    make_item(org, rating=None, kind="question", posted_at=DAY + 2 * hour)
    # A reply since removed: not replied, but its time to reply still counts.
    make_item(org, rating=2, posted_at=next_day, reply_updated_at=next_day + 3 * hour)
    make_item(
        org, rating=4, posted_at=next_month, reply_text="x", reply_updated_at=next_month + 5 * hour
    )
    make_item(org, rating=1, posted_at=DAY, deleted=True)

    def analytics(**params: str) -> dict:
        params = {"since": "2025-03-01", "until": "2025-04-30", **params}
        return client.get("/api/v1/analytics", params=params, headers=owner.headers).json()

    by_day, by_month = analytics(period="day"), analytics(period="month")
    replied, unreplied = analytics(replied="true"), analytics(replied="false")

    assert [
        (p["period_start"][:10], p["count"], p["average_rating"]) for p in by_day["series"]
    ] == [
        ("2025-03-03", 2, 5.0),
        ("2025-03-04", 1, 2.0),
        ("2025-04-12", 1, 4.0),
    ]
    assert [
        (p["period_start"][:10], p["count"], p["average_rating"]) for p in by_month["series"]
    ] == [
        ("2025-03-01", 3, 3.5),
        ("2025-04-01", 1, 4.0),
    ]
    assert by_month["rating_distribution"] == {"2": 1, "4": 1, "5": 1}
    assert (by_month["total"], by_month["replied"], by_month["reply_rate"]) == (4, 2, 0.5)
    assert by_month["reply_times_estimated"] is True
    assert by_month["median_seconds_to_reply"] == pytest.approx(3 * 3600, rel=0.05)
    assert by_month["p90_seconds_to_reply"] == pytest.approx(
        3 * 3600 + (5 - 3) * 3600 * 0.8, rel=0.05
    )
    # Any other filter is answered from the items: exact
    assert replied["reply_times_estimated"] is False
    assert (replied["total"], replied["replied"], replied["median_seconds_to_reply"]) == (
        2,
        2,
        (1 + 5) / 2 * 3600,
    )
    assert (unreplied["total"], unreplied["replied"], unreplied["reply_rate"]) == (2, 0, 0.0)
    assert unreplied["median_seconds_to_reply"] == 3 * 3600


def test_analytics_of_nothing_is_empty_not_an_error(client: TestClient, owner: Person):
    body = client.get("/api/v1/analytics", headers=owner.headers).json()

    assert body["series"] == [] and body["total"] == 0 and body["reply_rate"] is None


def test_the_export_streams_the_filters_items_as_safe_csv(
    client: TestClient, owner: Person, make_item: Callable[..., Item]
):
    make_item(owner.organisation, rating=1, text='=HYPERLINK("http://evil")', tags=["a", "b"])
    make_item(owner.organisation, rating=5, text="Lovely")
    for n in range(1500):
        make_item(owner.organisation, rating=2, text=f"meh {n}", posted_at=DAY)

    with client.stream(
        "GET", "/api/v1/items/export.csv", params={"max_rating": 2}, headers=owner.headers
    ) as response:
        assert response.headers["content-type"].startswith("text/csv")
        text = "".join(response.iter_text())

    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1501
    assert {r["text"] for r in rows if r["rating"] == "1"} == {'\'=HYPERLINK("http://evil")'}
    assert {r["tags"] for r in rows if r["rating"] == "1"} == {"a,b"}
    assert "Lovely" not in text
