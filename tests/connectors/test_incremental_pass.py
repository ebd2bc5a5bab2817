"""The cursor rule of an incremental pass (``connectors.passes.IncrementalPass``), on Google's
review listing, against hand-built pages served by a scripted loopback server.

The listing is newest-updated first, so a pass stops at the first record older than the
cursor; the new cursor is the newest time seen, and only a complete pass moves it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from connectors import errors
from connectors.base import ProviderClient
from connectors.google.errors import GoogleErrors
from connectors.google.reviews import GoogleReviews
from tests.connectors.scripted import Reply, ScriptedServer

LOCATION = "accounts/1/locations/2"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def review(number: int, updated: datetime) -> dict:
    return {
        "reviewId": f"r{number}",
        "starRating": "FIVE",
        "reviewer": {"displayName": f"Reviewer {number}"},
        "comment": "Lovely",
        "createTime": (updated - timedelta(days=1)).isoformat().replace("+00:00", "Z"),
        "updateTime": updated.isoformat().replace("+00:00", "Z"),
    }


def listing(*minutes: int, start: int = 0) -> list[dict]:
    """Reviews updated at these minutes past T0 (give them newest first, as Google does)."""
    return [review(start + i, at(m)) for i, m in enumerate(minutes)]


def page(records: list[dict], next_token: str | None = None) -> Reply:
    body: dict = {"reviews": records}
    if next_token:
        body["nextPageToken"] = next_token
    return Reply(200, body)


def reviews_of(server: ScriptedServer, slept: list[float]) -> GoogleReviews:
    client = ProviderClient(
        session=requests.Session(),
        base_url=server.url,
        error_table=GoogleErrors(),
        sleep=slept.append,
        max_attempts=1,
    )
    return GoogleReviews(client)


def read_all(stream: GoogleReviews, cursor: datetime | None):
    one_pass = stream.read(LOCATION, cursor)
    pages = list(one_pass.pages())
    return one_pass, [item.external_id for p in pages for item in p.items]


def test_without_a_cursor_every_page_is_read_and_the_cursor_becomes_the_newest_time(
    scripted, slept
):
    scripted.answer(
        page(listing(50, 40, start=0), "p2"),
        page(listing(30, 20, start=2), "p3"),
        page(listing(10, start=4)),
    )
    one_pass, ids = read_all(reviews_of(scripted, slept), cursor=None)

    assert ids == ["r0", "r1", "r2", "r3", "r4"]
    assert [r.query.get("pageToken") for r in scripted.received] == [None, "p2", "p3"]
    assert all(r.query["orderBy"] == "updateTime desc" for r in scripted.received)
    assert one_pass.complete and one_pass.new_cursor == at(50)


def test_a_pass_stops_at_the_first_record_older_than_the_cursor_without_asking_further(
    scripted, slept
):
    # Three pages; the cursor falls inside the second.
    scripted.answer(
        page(listing(50, 40, start=0), "p2"),
        page(listing(30, 20, start=2), "p3"),
        page(listing(10, start=4)),
    )
    one_pass, ids = read_all(reviews_of(scripted, slept), cursor=at(25))

    assert ids == ["r0", "r1", "r2"]  # r3 (minute 20) is older: the pass stopped there
    assert len(scripted.received) == 2 and scripted.left == 1  # page 3 was never asked for
    assert one_pass.complete and one_pass.new_cursor == at(50)


def test_with_nothing_new_a_pass_costs_one_request_and_keeps_the_cursor(scripted, slept):
    scripted.answer(page(listing(20, 10), "p2"), page(listing(5, start=2)))
    one_pass, ids = read_all(reviews_of(scripted, slept), cursor=at(30))

    assert ids == []
    assert len(scripted.received) == 1
    assert one_pass.complete and one_pass.new_cursor == at(30)


def test_a_record_updated_exactly_at_the_cursor_is_read_again(scripted, slept):
    # Times are whole seconds at some providers: an equal time may be a second record.
    scripted.answer(page(listing(30, 25, 24)))
    _, ids = read_all(reviews_of(scripted, slept), cursor=at(25))
    assert ids == ["r0", "r1"]


def test_an_interrupted_pass_leaves_the_cursor_where_it_was(scripted, slept):
    scripted.answer(
        page(listing(50, 40), "p2"),
        Reply(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT"}}),
    )
    one_pass = reviews_of(scripted, slept).read(LOCATION, at(5))
    pages = one_pass.pages()
    assert [i.external_id for i in next(pages).items] == ["r0", "r1"]
    with pytest.raises(errors.Rejected):
        next(pages)

    # The next pass starts again from the top (upserts make re-reading harmless).
    assert not one_pass.complete and one_pass.new_cursor is None


def test_a_malformed_record_is_skipped_and_counted_but_its_id_is_seen(scripted, slept):
    broken = {"reviewId": "bad", "starRating": "ELEVEN", "updateTime": "2026-03-01T12:45:00Z"}
    scripted.answer(page([*listing(50), broken, *listing(40, start=1)]))
    one_pass = reviews_of(scripted, slept).read(LOCATION, None)
    [only] = list(one_pass.pages())

    assert [i.external_id for i in only.items] == ["r0", "r1"]
    assert only.seen_ids == ["r0", "bad", "r1"]  # a full pass must not mark it deleted
    assert one_pass.skipped == 1 and one_pass.new_cursor == at(50)


def test_the_cursor_never_moves_back(scripted, slept):
    # A listing whose newest record is older than the cursor (nothing new, one request).
    scripted.answer(page(listing(10)))
    one_pass, _ = read_all(reviews_of(scripted, slept), cursor=at(30))
    assert one_pass.new_cursor == at(30)


def test_a_page_token_handed_back_twice_ends_the_pass_with_an_error(scripted, slept):
    scripted.answer(page(listing(50), "same"), page(listing(40, start=1), "same"))
    one_pass = reviews_of(scripted, slept).read(LOCATION, None)
    with pytest.raises(errors.ProviderError, match="same page token"):
        list(one_pass.pages())
    assert not one_pass.complete
