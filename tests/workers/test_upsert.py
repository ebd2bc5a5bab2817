"""The one item upsert, as a sync's page and as a push event write it: one statement, only rows
that changed, redaction in one place, and an event that carries part of an item keeps the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.records import ItemRecord, storable
from models import Connection, ConnectionStatus, Item, Location, Organisation
from services.items.upsert import COPY_ROWS, upsert_items

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


# What a provider may send that a text format must carry through unchanged: its separators and
# escapes, NULL's spelling, NUL and lone surrogates (made storable by the record), scripts.
ODD_TEXTS = [
    "tab\there", "two\nlines", "carriage\r\nreturn", "back\\slash", "\\N", "\\t not a tab",
    "ends with a backslash\\", "nul\x00inside", "lone \ud800 surrogate", "😀 مطعم رائع ‏",
    "", " ", "'quoted' \"double\" ,comma;", "x" * 5000,
]  # fmt: skip


def odd_records(prefix: str, count: int) -> list[ItemRecord]:
    records = []
    for n in range(count):
        odd = ODD_TEXTS[n % len(ODD_TEXTS)]
        records.append(
            ItemRecord(
                kind="comment",
                external_id=f"{prefix}{n}",
                posted_at=POSTED + timedelta(microseconds=n),
                provider_updated_at=None if n % 3 else POSTED,
                author_name=None if n % 5 == 0 else f"{odd} {n}",
                author_anonymous=n % 2 == 0,
                rating=None if n % 4 == 0 else n % 5 + 1,
                text=odd,
                original_text=None if n % 2 else odd[::-1],
                reply_text=f"Thanks\n{odd}" if n % 3 == 0 else None,
                # As connectors make media storable (a record makes only its own texts so).
                media=[{"thumbnail_url": storable(f"https://x.example/{odd[:20]}\\{n}")}]
                if n % 7
                else None,
            )
        )
    return records


def test_a_sync_batch_goes_through_copy_and_stores_odd_text_exactly_as_a_small_page(db, location):
    # Given the same odd records for two connections: one batch big enough for the COPY path,
    # and pages too small for it (the arrays of the ordinary upsert)
    other = Connection(
        organisation_id=location.organisation_id,
        provider="facebook",
        status=ConnectionStatus.ACTIVE,
    )
    db.add(other)
    db.flush()
    records = odd_records("r", COPY_ROWS + 10)

    # When both are written
    staged = upsert_items(
        db,
        organisation_id=location.organisation_id,
        connection_id=location.connection_id,
        location_id=location.id,
        source="facebook",
        records=records,
    )
    for start in range(0, len(records), 50):
        upsert_items(
            db,
            organisation_id=location.organisation_id,
            connection_id=other.id,
            location_id=location.id,
            source="facebook",
            records=records[start : start + 50],
        )
    db.commit()

    # Then every row was created once, and both ways stored exactly the same values
    assert len(staged.created) == len(records) and staged.updated == []
    columns = [
        c for c in Item.__table__.columns
        if c.name not in ("id", "connection_id", "created_at", "updated_at")
    ]  # fmt: skip

    def rows(connection_id: int) -> list[tuple]:
        db.expire_all()
        query = db.query(*columns).filter(Item.connection_id == connection_id)
        return sorted(query.all(), key=lambda row: row.external_id)

    copied, unnested = rows(location.connection_id), rows(other.id)
    assert len(copied) == len(records) and copied == unnested
    assert {row.text for row in copied} >= {"tab\there", "\\N", "nul" + "inside", ""}
    # And a re-read with nothing changed writes nothing, through COPY too
    again = upsert_items(
        db,
        organisation_id=location.organisation_id,
        connection_id=location.connection_id,
        location_id=location.id,
        source="facebook",
        records=records,
    )
    assert len(again) == 0


def test_two_copied_batches_in_one_transaction_merge_only_their_own_rows(db, location):
    # Given a batch written and not yet committed, then one of its items edited by a page
    write_batch = dict(
        organisation_id=location.organisation_id,
        connection_id=location.connection_id,
        location_id=location.id,
        source="facebook",
    )
    first = odd_records("r", COPY_ROWS)
    upsert_items(db, records=first, **write_batch)
    upsert_items(db, records=[ItemRecord(**{**_fields(first[0]), "text": "new"})], **write_batch)

    # When a second batch follows in the same transaction
    changes = upsert_items(db, records=odd_records("s", COPY_ROWS), **write_batch)
    db.commit()

    # Then it created its own rows and touched nothing of the first batch's
    assert (len(changes.created), changes.updated) == (COPY_ROWS, [])
    assert stored(db, "r0").text == "new"


def _fields(record: ItemRecord) -> dict:
    return {name: getattr(record, name) for name in record.__slots__}
