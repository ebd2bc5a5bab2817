"""The one item upsert, as a sync's page and as a push event write it: one statement, only rows
that changed, redaction in one place, and an event that carries part of an item keeps the rest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.records import ItemRecord
from models import Connection, ConnectionStatus, Item, Location, Organisation
from services.items.upsert import upsert_items

POSTED = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def location(db) -> Location:
    organisation = Organisation(name="Corner Café")
    db.add(organisation)
    db.flush()
    connection = Connection(
        organisation_id=organisation.id, provider="facebook", status=ConnectionStatus.ACTIVE
    )
    db.add(connection)
    db.flush()
    place = Location(
        organisation_id=organisation.id,
        connection_id=connection.id,
        provider="facebook",
        external_id="page-1",
    )
    db.add(place)
    db.commit()
    return place


def write(db, location: Location, *records: ItemRecord, partial: bool = False):
    changes = upsert_items(
        db,
        organisation_id=location.organisation_id,
        connection_id=location.connection_id,
        location_id=location.id,
        source="facebook",
        records=list(records),
        partial=partial,
    )
    db.commit()
    return changes


def stored(db, external_id: str) -> Item:
    db.expire_all()
    return db.query(Item).filter_by(external_id=external_id).one()


def a_comment(external_id: str = "c-1", **values) -> ItemRecord:
    return ItemRecord(
        kind="comment",
        external_id=external_id,
        posted_at=POSTED,
        **({"author_name": "Ann", "rating": None, "text": "Lovely"} | values),
    )


def test_a_page_inserts_then_a_reread_with_nothing_changed_writes_nothing(db, location):
    first = write(db, location, a_comment("c-1"), a_comment("c-2", text="Great coffee"))
    assert (len(first.created), first.updated) == (2, [])

    again = write(db, location, a_comment("c-1"), a_comment("c-2", text="Great coffee"))

    assert len(again) == 0
    edited = write(db, location, a_comment("c-1", text="Lovely, again"), a_comment("c-2"))
    assert sorted(edited.updated) == sorted(first.created) and edited.created == []


def test_free_text_is_redacted_whichever_way_it_arrives(db, location):
    write(
        db, location, a_comment("c-1", text="mail ann@example.com", reply_text="call 07700 900123")
    )
    write(db, location, a_comment("c-2", text="write to bob@example.com"), partial=True)

    assert stored(db, "c-1").text == "mail [redacted:email]"
    assert "07700 900123" not in stored(db, "c-1").reply_text
    assert stored(db, "c-2").text == "write to [redacted:email]"


def test_an_event_changes_what_it_carries_and_keeps_the_rest(db, location):
    # Given a comment as the sync stored it, with our reply
    write(db, location, a_comment("c-1", author_external_id="u-1", reply_text="Thank you!"))

    # When an edit event carries only the new text
    changes = write(db, location, a_comment("c-1", author_name=None, text="Lovely!!"), partial=True)

    # Then the text changes; the author, our reply and the rest stay as they were
    item = stored(db, "c-1")
    assert changes.updated == [item.id]
    assert (item.text, item.author_name, item.author_external_id, item.reply_text) == (
        "Lovely!!",
        "Ann",
        "u-1",
        "Thank you!",
    )
    # And a delivery repeated (Meta retries for hours) writes nothing
    assert len(write(db, location, a_comment("c-1", text="Lovely!!"), partial=True)) == 0


def test_an_item_marked_deleted_comes_back_when_it_is_listed_or_pushed_again(db, location):
    (listed,) = write(db, location, a_comment("c-1")).created
    (pushed,) = write(db, location, a_comment("c-2"), partial=True).created
    db.query(Item).update({"deleted": True, "deleted_at": POSTED})
    db.commit()

    assert write(db, location, a_comment("c-1")).updated == [listed]
    assert write(db, location, a_comment("c-2"), partial=True).updated == [pushed]
    assert (stored(db, "c-1").deleted, stored(db, "c-2").deleted_at) == (False, None)
