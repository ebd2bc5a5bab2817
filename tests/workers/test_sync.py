"""Syncing Google reviews from the sandbox into PostgreSQL, including the ways it goes wrong."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select, text

from models import Checkpoint, Connection, ConnectionStatus, Item, Location, SyncRun
from tests.fixtures import connect_google
from tests.service_calls import sync
from tests.support import delayed_messages, this_runs_broker

REVIEWS_PATH = r"^/mybusiness/v4/.*/reviews$"


def admin(sandbox, method, path, **kwargs):
    response = httpx.request(method, f"{sandbox.url}/_admin{path}", timeout=10, **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


def review_requests(sandbox) -> int:
    return admin(sandbox, "GET", "/requests", params={"path": REVIEWS_PATH})["total"]


def items(db, **where):
    db.expire_all()
    query = select(Item)
    for key, value in where.items():
        query = query.where(getattr(Item, key) == value)
    return list(db.scalars(query))


def test_first_sync_reads_every_review_then_a_sync_with_nothing_new_costs_one_request_a_location(
    db, serve_sandbox
):
    # Given a connection to a sandbox with 2 locations of 120 reviews each: three pages of 50,
    # so that a pass which failed to stop at its cursor would read more than the first page
    sandbox = serve_sandbox(locations=2, reviews_per_location=120)
    connection = connect_google(db)

    # When it syncs for the first time
    run = sync(connection.id, "google_reviews")

    # Then every review is in the inbox, with its location, read in three pages a location
    assert run.status == "succeeded"
    assert run.fetched == 240 and run.written == 240
    assert review_requests(sandbox) == 6
    assert len(items(db, deleted=False)) == 240
    assert db.scalar(select(func.count()).select_from(Location)) == 2
    assert all(cp.cursor for cp in db.scalars(select(Checkpoint)))

    # When it syncs again with nothing new
    admin(sandbox, "DELETE", "/requests")
    again = sync(connection.id, "google_reviews")

    # Then it asked once per location (the first page) and wrote nothing
    assert review_requests(sandbox) == 2
    assert again.written == 0 and again.requests == 2


def test_edits_and_replies_made_on_google_show_up_after_the_next_sync(db, sandbox):
    connection = connect_google(db)
    sync(connection.id, "google_reviews")
    review = items(db)[0]

    admin(sandbox, "PATCH", f"/reviews/{review.external_id}", json={"comment": "Changed my mind"})
    run = sync(connection.id, "google_reviews")
    assert run.written == 1
    assert items(db, external_id=review.external_id)[0].text == "Changed my mind"

    admin(
        sandbox,
        "PATCH",
        f"/reviews/{review.external_id}",
        json={"reviewReply": {"comment": "Thanks, from the owner's phone"}},
    )
    sync(connection.id, "google_reviews")
    assert (
        items(db, external_id=review.external_id)[0].reply_text == "Thanks, from the owner's phone"
    )


def test_a_full_pass_marks_reviews_gone_from_google_as_deleted(db, sandbox, configure):
    connection = connect_google(db)
    sync(connection.id, "google_reviews")
    gone = items(db)[3]
    admin(sandbox, "DELETE", f"/reviews/{gone.external_id}")

    with configure(full_sync_interval_seconds=0):
        run = sync(connection.id, "google_reviews")

    assert run.deleted == 1
    assert items(db, external_id=gone.external_id)[0].deleted
    assert len(items(db, deleted=False)) == 59


def test_a_429_storm_is_waited_out_and_the_sync_completes(db, sandbox):
    connection = connect_google(db)
    admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": REVIEWS_PATH, "status": 429, "retry_after": 0.2, "times": 3},
    )

    run = sync(connection.id, "google_reviews")

    assert run.status == "succeeded"
    assert len(items(db)) == 60
    assert run.requests >= 3 + 2  # three refused, then one page per location


def test_a_long_rate_limit_window_pauses_the_run_and_its_continuation_finishes_it(db, sandbox):
    # Given a connection whose first review request is refused with a two-minute window
    connection = connect_google(db)
    this_runs_broker().flush_all()
    admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": REVIEWS_PATH, "status": 429, "retry_after": 120, "times": 1},
    )

    # When it syncs, the run waits in the broker rather than failing
    paused = sync(connection.id, "google_reviews")

    assert paused.status == "waiting" and paused.finished_at is None
    assert paused.rate_limit_waits == 1 and paused.error_class is None
    assert not [cp for cp in db.scalars(select(Checkpoint)) if cp.cursor]
    (message,) = delayed_messages()
    assert message["actor_name"] == "sync.capability"
    assert message["kwargs"]["run_id"] == paused.id
    assert message["options"]["eta"] > time.time() * 1000 + 100_000

    # And a scheduled sync meanwhile leaves the paused run to its continuation
    assert sync(connection.id, "google_reviews", requested_at=datetime.now(UTC)) is None

    # When the continuation runs
    done = sync(*message["args"], **message["kwargs"])

    # Then it is the same run, which succeeded, counting all it did and the wait
    db.expire_all()
    (run,) = db.scalars(select(SyncRun)).all()
    assert done.id == run.id == paused.id
    assert run.status == "succeeded" and run.error_class is None and run.errors == []
    assert run.rate_limit_waits == 1 and run.written == 60 and run.requests >= 3
    assert run.finished_at is not None
    assert all(cp.cursor for cp in db.scalars(select(Checkpoint)))
    this_runs_broker().flush_all()


def test_server_errors_are_retried_with_backoff(db, sandbox):
    connection = connect_google(db)
    admin(sandbox, "POST", "/faults", json={"path": REVIEWS_PATH, "status": 503, "times": 2})
    admin(sandbox, "POST", "/faults", json={"path": REVIEWS_PATH, "status": 500, "times": 1})

    run = sync(connection.id, "google_reviews")

    assert run.status == "succeeded"
    assert len(items(db)) == 60


def test_a_revoked_refresh_token_makes_the_connection_need_reauth_and_stops_there(db, sandbox):
    connection = connect_google(db)
    admin(sandbox, "POST", "/google/revoke", json={})
    admin(sandbox, "POST", "/google/expire-access-tokens")
    admin(sandbox, "DELETE", "/requests")

    run = sync(connection.id, "google_reviews")

    db.expire_all()
    assert db.get(Connection, connection.id).status == ConnectionStatus.NEEDS_REAUTH
    assert run.status == "failed" and run.errors[0]["type"] == "NeedsReauth"
    # Nothing else is tried for a connection that needs re-authorisation.
    assert sync(connection.id, "google_reviews") is None
    assert review_requests(sandbox) == 0


def test_an_expired_access_token_is_refreshed_once_and_saved_encrypted(db, sandbox):
    connection = connect_google(db)
    old_token = connection.access_token
    admin(sandbox, "POST", "/google/expire-access-tokens")

    run = sync(connection.id, "google_reviews")

    assert run.status == "succeeded"
    db.expire_all()
    new_token = db.get(Connection, connection.id).access_token
    assert new_token and new_token != old_token
    raw = db.execute(text("SELECT access_token, refresh_token FROM connections")).one()
    assert new_token not in raw.access_token
    assert connection.refresh_token not in raw.refresh_token


def test_a_malformed_review_is_skipped_and_counted_and_the_rest_of_its_page_kept(db, sandbox):
    connection = connect_google(db)
    admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": REVIEWS_PATH, "malformed_review": "bad_rating", "times": 1},
    )

    run = sync(connection.id, "google_reviews")

    assert run.status == "succeeded"
    assert run.skipped == 1
    assert len(items(db)) == 59


def test_identifiers_in_reviews_are_redacted_before_they_are_stored(db, sandbox):
    # Given a review whose author typed a card number and an e-mail address
    connection = connect_google(db)
    location = admin(sandbox, "GET", "/locations")["locations"][0]["name"]
    admin(
        sandbox,
        "POST",
        "/reviews",
        json={
            "location": location,
            "starRating": "ONE",
            "comment": "Charged twice on 4111 1111 1111 1111, write to me: zed@example.com",
        },
    )

    # When it is synced
    sync(connection.id, "google_reviews")

    # Then the stored text holds placeholders, and the originals are nowhere in the table
    stored = db.scalars(select(Item.text).where(Item.text.like("Charged twice%"))).one()
    assert stored == "Charged twice on [redacted:card], write to me: [redacted:email]"
    dump = db.execute(text("SELECT string_agg(items::text, ' ') FROM items")).scalar()
    assert "4111" not in dump and "zed@example.com" not in dump


def test_text_postgresql_cannot_hold_is_made_storable_and_the_page_kept(db, sandbox):
    # Given a review on Google with a NUL byte in its text and its reply (JSON can carry it)
    connection = connect_google(db)
    sync(connection.id, "google_reviews")
    before = len(items(db))
    review = items(db)[0]
    admin(
        sandbox,
        "PATCH",
        f"/reviews/{review.external_id}",
        json={"comment": "Nul\x00led", "reviewReply": {"comment": "Th\x00anks"}},
    )

    # When it syncs
    run = sync(connection.id, "google_reviews")

    # Then it is stored with what can be kept, and nothing else on the page is lost
    assert run.status == "succeeded" and run.written == 1, run.errors
    stored = items(db, external_id=review.external_id)[0]
    assert (stored.text, stored.reply_text) == ("Nulled", "Thanks")
    assert len(items(db)) == before
