"""Facet counts past the exact limit: estimated from a sample, marked so, close to the truth, and
never counting anyone else's items."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String, cast, func, select, text, update
from sqlalchemy.orm import Session

from models import Item, Location, Membership, Role
from services.inbox.facets import planned_rows
from services.inbox.inbox import InboxFilters, conditions
from tests.api.conftest import Person, google_locations

FACETS = "/api/v1/items/facets"
# Ours: 9,000 reviews at the first location, 4,500 questions (no rating) at the second; seven in
# ten open, the rest closed and, all but about one in a hundred, replied to. The neighbour's
# 4,500 items share the same pages and carry values ours never have.
_LOAD = """
INSERT INTO items (organisation_id, location_id, source, kind, external_id, author_anonymous,
    rating, text, posted_at, status, reply_text)
SELECT CASE WHEN neighbour THEN :neighbour ELSE :ours END,
    CASE WHEN neighbour THEN NULL WHEN n % 3 = 1 THEN :second ELSE :first END,
    CASE WHEN neighbour THEN 'facebook' ELSE 'google' END,
    CASE WHEN neighbour THEN 'comment' WHEN n % 3 = 1 THEN 'question' ELSE 'review' END,
    'load-' || n, false,
    CASE WHEN NOT neighbour AND n % 3 <> 1 THEN 1 + floor(r_rating * 5)::int END,
    'Item number ' || n, now() - n * interval '1 minute',
    CASE WHEN neighbour THEN 'archived' WHEN r_status < 0.7 THEN 'open' ELSE 'closed' END,
    CASE WHEN NOT neighbour AND r_status >= 0.7 AND r_unreplied >= 0.01 THEN 'Thank you' END
FROM (SELECT n, n % 4 = 0 AS neighbour, random() AS r_rating, random() AS r_status,
          random() AS r_unreplied
      FROM generate_series(1, 18000) AS n) AS rows
"""


@dataclass
class Loaded:
    owner: Person
    neighbour: Person
    first: Location
    second: Location


@pytest.fixture
def loaded(db: Session, make_person: Callable[..., Person]) -> Loaded:
    owner, neighbour = make_person(Role.OWNER), make_person(Role.OWNER)
    _, (first, second) = google_locations(db, owner.organisation.id, "first", "second")
    db.execute(text("SELECT setseed(0.25)"))
    db.execute(
        text(_LOAD),
        {
            "ours": owner.organisation.id,
            "neighbour": neighbour.organisation.id,
            "first": first.id,
            "second": second.id,
        },
    )
    db.commit()
    # What autovacuum does after a load like this: the planner's row estimates come from it.
    db.execute(text("ANALYZE items"))
    db.commit()
    return Loaded(owner=owner, neighbour=neighbour, first=first, second=second)


def _truth(db: Session, person: Person, location_ids: list[int] | None = None) -> dict:
    """The exact counts, with plain queries of their own."""
    where = conditions(scope=person.scope(location_ids), filters=InboxFilters())
    columns = {
        "status": Item.status,
        "source": Item.source,
        "kind": Item.kind,
        "rating": func.coalesce(cast(Item.rating, String), "none"),
        "replied": cast(Item.reply_text.is_not(None), String),
    }
    truth: dict = {"total": db.scalar(select(func.count()).where(*where).select_from(Item))}
    for name, column in columns.items():
        rows = db.execute(select(column, func.count()).where(*where).group_by(column))
        truth[name] = {str(value): n for value, n in rows}
    return truth


def _within(estimate: dict, truth: dict, *, total: float, share: float, values: float) -> None:
    """The total within ``total``, and every value holding at least ``share`` of it within
    ``values`` (relative)."""
    assert abs(estimate["total"] - truth["total"]) <= total * truth["total"], (estimate, truth)
    for name in ("status", "source", "kind", "rating", "replied"):
        for value, n in truth[name].items():
            if n >= share * truth["total"]:
                got = estimate[name].get(value, 0)
                assert abs(got - n) <= values * n, (name, value, got, n)


def test_small_results_stay_exact_below_the_limit(
    client: TestClient, db: Session, loaded: Loaded, configure: Callable[..., None]
):
    configure(inbox_facets_exact_limit=20000)

    facets = client.get(FACETS, headers=loaded.owner.headers).json()

    truth = _truth(db, loaded.owner)
    assert facets == {**truth, "estimated": False}


def test_past_the_limit_counts_are_estimated_close_to_the_truth(
    client: TestClient, db: Session, loaded: Loaded, configure: Callable[..., None]
):
    configure(inbox_facets_exact_limit=2000)

    facets = client.get(FACETS, headers=loaded.owner.headers).json()

    truth = _truth(db, loaded.owner)
    assert facets["estimated"] is True
    assert facets != {**truth, "estimated": True}  # scaled from a sample, not counted
    _within(facets, truth, total=0.1, share=0.2, values=0.2)
    # The neighbour's items share the sampled pages but are never counted.
    assert "archived" not in facets["status"]
    assert "facebook" not in facets["source"]
    assert "comment" not in facets["kind"]


def test_an_estimate_counts_only_the_callers_locations(
    client: TestClient,
    db: Session,
    loaded: Loaded,
    make_person: Callable[..., Person],
    configure: Callable[..., None],
):
    configure(inbox_facets_exact_limit=2000)
    limited = make_person(Role.MANAGER, organisation=loaded.owner.organisation)
    db.execute(
        update(Membership)
        .where(Membership.user_id == limited.user.id)
        .values(location_ids=[loaded.first.id])
    )
    db.commit()

    facets = client.get(FACETS, headers=limited.headers).json()

    truth = _truth(db, limited, location_ids=[loaded.first.id])
    assert facets["estimated"] is True
    _within(facets, truth, total=0.1, share=0.2, values=0.2)
    # The second location holds every question and every item without a rating.
    assert "question" not in facets["kind"]
    assert "none" not in facets["rating"]
    assert "archived" not in facets["status"]


def test_a_filter_the_planner_overrates_is_counted_exactly_after_all(
    client: TestClient, db: Session, loaded: Loaded, configure: Callable[..., None]
):
    configure(inbox_facets_exact_limit=500)
    # Closed items are almost all replied to; the planner, taking the two conditions as
    # independent, expects far more closed unreplied ones than the few there are.
    filters = InboxFilters(statuses=["closed"], replied=False)
    where = conditions(scope=loaded.owner.scope(), filters=filters)
    assert planned_rows(db, select(Item.id).where(*where)) > 500

    facets = client.get(
        FACETS, params={"status": "closed", "replied": False}, headers=loaded.owner.headers
    ).json()

    expected = db.scalar(select(func.count()).select_from(Item).where(*where))
    assert 0 < expected < 100
    assert (facets["estimated"], facets["total"]) == (False, expected)
    assert facets["replied"] == {"false": expected}
