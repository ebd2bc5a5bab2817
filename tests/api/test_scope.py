"""The one scoped lookup: a row of the caller's organisation and locations, or NotFound."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.errors import NotFound
from models import Item, ItemNote, Reply, ReplyTemplate, Role
from services.scope import get_in_scope
from tests.api.conftest import Person, google_locations


def test_a_row_is_found_only_within_the_scopes_organisation_and_locations(
    db: Session, make_person: Callable[..., Person], make_item: Callable[..., Item]
):
    # Given an organisation with a north and a south location, each with an item, a note on
    # it and a reply to it, and an organisation-wide template
    owner, stranger = make_person(Role.OWNER), make_person(Role.OWNER)
    org = owner.organisation
    _, (north, south) = google_locations(db, org.id, "north", "south")
    rows: dict[str, dict[str, Any]] = {}
    for place in (north, south):
        item = make_item(org, location_id=place.id)
        note = ItemNote(organisation_id=org.id, item_id=item.id, body="n")
        reply = Reply(organisation_id=org.id, item_id=item.id, body="r", idempotency_key=place.name)
        db.add_all([note, reply])
        db.commit()
        rows[place.name] = {"location": place, "item": item, "note": note, "reply": reply}
    template = ReplyTemplate(organisation_id=org.id, name="t", body="Thanks")
    db.add(template)
    db.commit()
    north_only = owner.scope([north.id])

    # Then the owner finds everything, a member of the north finds the north's rows and the
    # template, and nobody else finds anything
    for place, found in rows.items():
        for kind, row in found.items():
            model = type(row)
            assert get_in_scope(db, owner.scope(), model, row.id, what=kind) is row
            if place == "north":
                assert get_in_scope(db, north_only, model, row.id, what=kind) is row
            else:
                with pytest.raises(NotFound, match=f"{kind} not found"):
                    get_in_scope(db, north_only, model, row.id, what=kind)
            with pytest.raises(NotFound):
                get_in_scope(db, stranger.scope(), model, row.id, what=kind)
    assert get_in_scope(db, north_only, ReplyTemplate, template.id, what="t") is template
    with pytest.raises(NotFound):
        get_in_scope(db, stranger.scope(), ReplyTemplate, template.id, what="t")
    # and further conditions narrow the lookup (a note under another item is not found)
    south_item = rows["south"]["item"]
    with pytest.raises(NotFound):
        get_in_scope(
            db, owner.scope(), ItemNote, rows["north"]["note"].id,
            ItemNote.item_id == south_item.id, what="Note",
        )  # fmt: skip
