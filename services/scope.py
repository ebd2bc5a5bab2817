"""Who acts, in which organisation, over which of its locations: the ``Scope`` every service
takes, and the one place its limits turn into WHERE clauses.

A scope is resolved once per request (api.deps) from a person's access token or an API key, and
passed to services as ``scope=``. Services never take an organisation id and a location limit
separately, so a query cannot forget either.

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
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import BigInteger, ColumnElement, any_, exists, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute, Session

from core.errors import NotFound
from models import Item, Location, Role

LocationIds = Sequence[int] | None  # None: not limited
Column = QueryableAttribute[Any] | ColumnElement[Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Scope:
    """The caller, in the organisation their token or key was issued for."""

    organisation_id: int
    role: Role
    user_id: int  # the person acting; for a key: the person who created it
    api_key_id: int | None = None
    session_id: str | None = None  # a person's log-in session (refresh-token family)
    # None: every location of the organisation; for a key: its creator's limit.
    location_ids: tuple[int, ...] | None = None

    @property
    def key_details(self) -> dict[str, int]:
        """What an audit entry's details add when a key acted (the person is its actor)."""
        return {"api_key_id": self.api_key_id} if self.api_key_id is not None else {}


def limit_of(location_ids: list[int] | None) -> tuple[int, ...] | None:
    """A membership's stored limit as a scope carries it."""
    return None if location_ids is None else tuple(location_ids)


def in_scope(model: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """WHERE conditions keeping the rows of ``model`` that ``scope`` may see: its organisation's,
    and within its locations where the row has one (its own, or its item's)."""
    return [model.organisation_id == scope.organisation_id, *_in_locations_of(model, scope)]


def get_in_scope(
    session: Session,
    scope: Scope,
    model: type[T],
    row_id: int,
    *where: ColumnElement[bool],
    what: str,
    for_update: bool = False,
) -> T:
    """The row of ``model`` with this id if ``scope`` may see it (and it meets ``where``);
    otherwise ``NotFound(what)`` — the same answer whether it is missing, another
    organisation's, or outside the caller's locations."""
    query = select(model).where(model.id == row_id, *in_scope(model, scope), *where)  # type: ignore[attr-defined]
    row = session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise NotFound(what)
    return row


def _in_locations_of(model: Any, scope: Scope) -> list[ColumnElement[bool]]:
    if model is Location:
        return in_locations(Location.id, scope.location_ids)
    if hasattr(model, "location_id"):
        return in_locations(model.location_id, scope.location_ids)
    if hasattr(model, "item_id"):  # replies, notes, thread messages: visible with their item
        return item_in_locations(model.item_id, scope.location_ids)
    return []  # organisation-wide: connections, keys, members, templates, webhooks …


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
