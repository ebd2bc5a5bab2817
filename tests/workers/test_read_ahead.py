"""A location's pages read ahead on a thread of their own while the last ones are written
(``services.sync.read_ahead``): memory stays a few pages, a failure arrives after the pages read
before it, and a pass stopped by the provider keeps those pages and its old cursor."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import func, select

from connectors import errors
from connectors.base import ProviderClient
from connectors.google.errors import GoogleErrors
from connectors.google.reviews import GoogleReviews
from models import Checkpoint, Connection, ConnectionStatus, Item, Location, Organisation, SyncRun
from services.sync.location_pass import SyncStats, sync_location
from services.sync.read_ahead import DEPTH, ReadAhead
from tests.connectors.scripted import Reply, ScriptedServer
from tests.connectors.test_incremental_pass import listing, page
from tests.support import wait_for


class Counted:
    """Pages 0, 1, 2, … (``total`` of them, or forever), counting what was produced, and
    whether the iterator was closed on the thread that ran it."""

    def __init__(self, total: int | None = None, fail_at: int | None = None) -> None:
        self.total, self.fail_at = total, fail_at
        self.produced = 0
        self.closed_on: str | None = None

    def __iter__(self):
        try:
            while self.total is None or self.produced < self.total:
                if self.produced == self.fail_at:
                    raise errors.Transient("page failed")
                self.produced += 1
                yield self.produced - 1
        except GeneratorExit:
            self.closed_on = threading.current_thread().name
            raise


def test_the_reader_runs_at_most_a_few_pages_ahead_of_the_writer():
    # Given 20 pages that could all be read at once
    pages = Counted(total=20)
    received = []
    # When the writer takes them one by one, each time letting the reader get as far as it can
    with ReadAhead(iter(pages)) as reading:
        for number in reading:
            received.append(number)
            # Then the reader holds the queue's pages and the one it waits to hand over, no more
            wait_for(lambda n=len(received): pages.produced == min(20, n + DEPTH + 1))
            assert pages.produced <= len(received) + DEPTH + 1
    assert received == list(range(20))


def test_a_failure_reaches_the_writer_after_every_page_read_before_it():
    # Given a reader whose fourth page fails
    pages = Counted(total=10, fail_at=3)
    received = []
    # When the writer takes what it reads
    with pytest.raises(errors.Transient), ReadAhead(iter(pages)) as reading:
        for number in reading:
            received.append(number)
    # Then the three pages before the failure were all handed over, in order
    assert received == [0, 1, 2]


def test_a_writer_that_stops_stops_the_reader_and_waits_for_it():
    # Given a reader of pages without end
    pages = Counted()
    iterator = iter(pages)
    read_ahead = ReadAhead(iterator)
    # When the writer fails on its third page (a database error, say)
    with pytest.raises(RuntimeError), read_ahead as reading:
        for number in reading:
            if number == 2:
                raise RuntimeError("the write failed")
    # Then the reader has stopped, closed its iterator on its own thread, and read little more
    assert not read_ahead._thread.is_alive()
    assert pages.closed_on == "sync-read-ahead"
    assert pages.produced <= 3 + DEPTH + 1


@pytest.fixture
def scripted():
    with ScriptedServer() as server:
        yield server


def test_a_pass_whose_next_page_fails_keeps_the_pages_before_it_and_its_cursor(db, scripted):
    # Given a location whose last pass left a cursor, and a listing of three pages of new
    # reviews whose third page fails (after its retries, here one attempt)
    organisation = Organisation(name="Corner Café")
    db.add(organisation)
    db.flush()
    connection = Connection(
        organisation_id=organisation.id, provider="google", status=ConnectionStatus.ACTIVE
    )
    db.add(connection)
    db.flush()
    location = Location(
        organisation_id=organisation.id,
        connection_id=connection.id,
        provider="google",
        external_id="accounts/1/locations/2",
    )
    db.add(location)
    db.flush()
    old_cursor = "2026-02-01T00:00:00+00:00"
    db.add(
        Checkpoint(
            location_id=location.id,
            capability="google_reviews",
            cursor=old_cursor,
            last_full_pass_at=datetime.now(UTC),
        )
    )
    run = SyncRun(
        connection_id=connection.id, capability="google_reviews", status="running", errors=[]
    )
    db.add(run)
    db.commit()
    scripted.answer(
        page(listing(*range(300, 250, -1)), next_token="p2"),
        page(listing(*range(250, 200, -1), start=50), next_token="p3"),
        Reply(503, {"error": {"code": 503, "status": "UNAVAILABLE"}}),
    )
    client = ProviderClient(
        session=requests.Session(),
        base_url=scripted.url,
        error_table=GoogleErrors(),
        max_attempts=1,
    )

    # When the pass runs into the failure
    with pytest.raises(errors.Transient):
        sync_location(db, GoogleReviews(client), connection, location, SyncStats(run))
    db.rollback()  # as the run does after a provider error

    # Then the hundred reviews of the first two pages are stored (committed before the error
    # reached the pass), and the cursor is where it was, so the next pass reads them again
    db.expire_all()
    assert db.scalar(select(func.count(Item.id)).where(Item.location_id == location.id)) == 100
    assert db.get(Checkpoint, (location.id, "google_reviews")).cursor == old_cursor
    assert len(scripted.received) == 3
