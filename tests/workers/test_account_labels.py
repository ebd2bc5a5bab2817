"""A connection is named as the provider names the account: Google's ``accountName`` (the
person's own account comes first), Facebook's ``/me?fields=name`` with the user token."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from models import Connection
from tests.fixtures import connect_google, consent
from tests.service_calls import finish, sync
from tests.workers.facebook_support import connect_facebook, use_facebook_app

ACCOUNTS_PATH = "^/accountmanagement/v1/accounts$"


def recent(sandbox, path: str) -> list[dict]:
    answer = httpx.get(f"{sandbox.url}/_admin/requests/recent", params={"limit": 1000}).json()
    return [r for r in answer["requests"] if r["path"] == path]


def count(sandbox, path_regex: str) -> int:
    return httpx.get(f"{sandbox.url}/_admin/requests", params={"path": path_regex}).json()["total"]


def labels(api: httpx.Client) -> dict[str, str]:
    listed = api.get("/api/v1/connections").json()["connections"]
    return {c["provider"]: c["account_label"] for c in listed}


def connect(api: httpx.Client, provider: str) -> None:
    start = api.post(f"/api/v1/connections/{provider}/authorize", json={}).json()
    callback = api.get(
        f"/api/v1/connections/{provider}/callback", params=consent(start["authorization_url"])
    )
    assert callback.status_code == 200, callback.text
    assert callback.json()["connection"]["account_label"] == ""  # not exchanged yet
    assert finish(start["state"]) == "active"


@pytest.mark.commits
def test_connecting_google_labels_the_connection_with_the_accounts_name(sandbox, idle_api):
    connect(idle_api, "google")

    assert labels(idle_api) == {"google": "Sandbox User"}
    assert count(sandbox, ACCOUNTS_PATH) == 1


@pytest.mark.commits
def test_connecting_facebook_labels_it_with_the_persons_name(sandbox, idle_api, configure):
    use_facebook_app(configure)

    connect(idle_api, "facebook")

    assert labels(idle_api) == {"facebook": "Sandbox Manager"}
    (me,) = recent(sandbox, "/facebook-graph/v22.0/me")
    assert "fields=name" in me["query"].split("&")


def _label(db, connection: Connection) -> str:
    db.expire_all()
    return db.scalars(select(Connection.account_label).where(Connection.id == connection.id)).one()


def test_a_google_connection_made_before_labels_gets_one_from_its_next_location_listing(
    db, sandbox
):
    connection = connect_google(db)
    assert connection.account_label == ""

    sync(connection.id, "google_reviews")

    assert _label(db, connection) == "Sandbox User"
    assert count(sandbox, ACCOUNTS_PATH) == 1  # the listing's own call, nothing more


def test_a_facebook_connection_made_before_labels_asks_once(db, sandbox, configure):
    use_facebook_app(configure, facebook_graph_version="v21.0")
    connection = connect_facebook(db)

    sync(connection.id, "facebook_comments")
    assert _label(db, connection) == "Sandbox Manager"
    assert len(recent(sandbox, "/facebook-graph/v21.0/me")) == 1
    db.execute(
        Connection.__table__.update()
        .where(Connection.id == connection.id)
        .values(locations_listed_at=None)
    )
    db.commit()

    sync(connection.id, "facebook_tagged")  # lists the pages again

    assert len(recent(sandbox, "/facebook-graph/v21.0/me/accounts")) == 2
    assert len(recent(sandbox, "/facebook-graph/v21.0/me")) == 1  # not asked again
