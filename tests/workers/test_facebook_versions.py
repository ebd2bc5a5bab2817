"""Recommendations through Graph API v21.0 while it lasts, whatever the pinned version, and
retired after it (PROVIDERS.md §G.4, §G.5), at the sandbox's wire."""

from __future__ import annotations

import importlib
from datetime import date

import httpx
import pytest
from sqlalchemy import select, text

from models import Connection, Item
from tests.service_calls import sync
from tests.workers.facebook_support import connect_facebook, fb_admin, use_facebook_app

V21_LAST_DAY = date(2027, 1, 20)
V21_ENDS = date(2027, 1, 21)


@pytest.fixture
def facebook(db, sandbox, configure):
    use_facebook_app(configure)  # the default pin, v22.0, which refuses recommendations
    connection = connect_facebook(db)
    httpx.delete(f"{sandbox.url}/_admin/requests")  # count only what the syncs ask
    return connection


def graph_paths(sandbox, pattern: str) -> dict[str, int]:
    counts = httpx.get(
        f"{sandbox.url}/_admin/requests", params={"path": "^/facebook-graph/" + pattern}
    ).json()
    return counts["paths"]


def ratings_state(db, connection: Connection) -> dict:
    db.expire_all()
    return db.get(Connection, connection.id).capabilities.get("facebook_ratings") or {}


def recommendations(db) -> list[Item]:
    return list(db.scalars(select(Item).where(Item.kind == "recommendation")))


def test_recommendations_are_read_through_v21_although_v22_is_pinned(db, sandbox, facebook):
    run = sync(facebook.id, "facebook_ratings", today=V21_LAST_DAY)

    assert run.status == "succeeded"
    assert len(recommendations(db)) == 10  # 2 pages × 5
    paths = graph_paths(sandbox, r".*/ratings$")
    assert paths and all(path.startswith("/facebook-graph/v21.0/") for path in paths)
    # The rest keeps the pinned version
    sync(facebook.id, "facebook_comments")
    assert graph_paths(sandbox, r"v22\.0/.*/feed$")
    assert not graph_paths(sandbox, r"v21\.0/.*/feed$")


def test_from_the_day_v21_ends_recommendations_are_retired_without_asking(db, sandbox, facebook):
    assert sync(facebook.id, "facebook_ratings", today=V21_ENDS) is None

    state = ratings_state(db, facebook)
    assert state["state"] == "retired" and "2027-01-21" in state["message"]
    assert graph_paths(sandbox, "") == {}  # not a single Graph API call
    assert recommendations(db) == []
    # And it stays retired: the sync is not even attempted on a later (or any) day
    assert sync(facebook.id, "facebook_ratings", today=V21_LAST_DAY) is None
    assert graph_paths(sandbox, r".*/ratings$") == {}


def test_error_12_before_the_date_retires_recommendations_too(db, sandbox, facebook):
    # Given Facebook stops serving v21.0 early: its calls are answered as v22.0 (error 12)
    fb_admin(sandbox, "PATCH", "/settings", json={"oldest_version": 22})

    run = sync(facebook.id, "facebook_ratings", today=V21_LAST_DAY)

    assert run.status == "failed" and run.error_class == "CapabilityRetired"
    state = ratings_state(db, facebook)
    assert state["state"] == "retired" and "Facebook error 12" in state["message"]
    asked = graph_paths(sandbox, r".*/ratings$")
    assert asked and all(path.startswith("/facebook-graph/v21.0/") for path in asked)
    assert sync(facebook.id, "facebook_comments").status == "succeeded"


def test_the_migration_revives_only_what_error_12_retired(db, facebook):
    migration = importlib.import_module("models.migrations.versions.0018_account_labels")
    # Given one connection retired by the v22.0 pin, and one missing a permission
    facebook.capabilities = {
        "facebook_ratings": {"state": "retired", "message": "Facebook error 12: (#12) ratings"},
        "facebook_comments": {"state": "missing_permission", "message": "Facebook error 283"},
    }
    db.commit()

    db.execute(text(migration.REVIVE_RATINGS))

    db.expire_all()
    assert db.get(Connection, facebook.id).capabilities == {
        "facebook_comments": {"state": "missing_permission", "message": "Facebook error 283"}
    }
