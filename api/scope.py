"""The locations a caller may see.

A membership may be limited to some of the organisation's locations (``Membership.location_ids``;
NULL: all of them), and an API key inherits its creator's limit. Every query over items,
locations, replies and campaigns takes its clause from here, so the rule is written once:

- a row is visible when its location is one of the member's;
- a row without a location (first-party feedback asked for without one, a campaign for the
  whole organisation) belongs to no location, so a limited member does not see it;
- something not visible is a 404, exactly like another organisation's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, any_, exists, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute

from models import Item

LocationIds = Sequence[int] | None  # None: not limited
Column = QueryableAttribute[Any] | ColumnElement[Any]


def in_locations(column: Column, location_ids: LocationIds) -> list[ColumnElement[bool]]:
    """WHERE conditions keeping rows whose ``column`` (a location id) is one of
    ``location_ids``; none at all when the caller is not limited."""
    if location_ids is None:
        return []
    # One array parameter whatever the number of locations: a single statement shape. On items
    # the planner either keeps walking the inbox index with it as a filter or, for a rare
    # location, starts from ix_items_location_inbox. NULL never matches.
    return [column == any_(literal(list(location_ids), ARRAY(BigInteger)))]


def item_in_locations(item_id: Column, location_ids: LocationIds) -> list[ColumnElement[bool]]:
    """The same for rows that hang off an item (replies): the item must be visible."""
    if location_ids is None:
        return []
    return [exists().where(Item.id == item_id, *in_locations(Item.location_id, location_ids))]
