"""Google's known paging issue (PROVIDERS.md §G.2): pages after the first may miss reviews, so
a full pass looks up what its listing did not show before it calls anything deleted."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from connectors.sandbox import SandboxServer, SandboxState, base_urls
from models import Item
from tests.fixtures import connect_google
from tests.service_calls import sync
from tests.workers.test_sync import admin


@pytest.fixture
def sandbox(configure) -> Iterator[SandboxServer]:
    """One location with three pages of reviews (Google's pages hold 50)."""
    state = SandboxState.seeded(seed=11, locations=1, reviews_per_location=130)
    with SandboxServer(state) as server:
        configure(**base_urls(server.url))
        yield server


def full_pass(configure, connection_id: int):
    with configure(full_sync_interval_seconds=0):
        run = sync(connection_id, "google_reviews")
    assert run is not None and run.status == "succeeded", run and run.errors
    return run


def test_a_full_pass_keeps_what_later_pages_missed_and_deletes_only_what_is_gone(
    db, sandbox, configure
):
    connection = connect_google(db)
    first = sync(connection.id, "google_reviews")
    assert first is not None and first.fetched == 130 and first.reconciled == 0
    # Reviews past the first page (newest-updated first), as Google's issue would drop them.
    reviews = sorted(
        db.scalars(select(Item).where(Item.connection_id == connection.id)),
        key=lambda i: i.provider_updated_at,
    )
    missed, gone = [r.external_id for r in reviews[:2]], reviews[2].external_id
    admin(sandbox, "PATCH", "/google/settings", json={"list_omits": missed})
    admin(sandbox, "DELETE", f"/reviews/{gone}")

    run = full_pass(configure, connection.id)

    assert (run.reconciled, run.deleted) == (2, 1)
    db.expire_all()
    by_id = {i.external_id: i for i in db.scalars(select(Item))}
    assert not by_id[missed[0]].deleted and not by_id[missed[1]].deleted
    assert by_id[gone].deleted
    # Once the listing shows them again, nothing is found only by reconciliation.
    admin(sandbox, "PATCH", "/google/settings", json={"list_omits": []})
    assert full_pass(configure, connection.id).reconciled == 0
