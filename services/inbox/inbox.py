"""The inbox query: one indexed statement per page, however deep, with any filter.

Pages are keyset-paginated on the sort's key — (posted_at, id) for newest/oldest, and
(rating, posted_at, id) for the rating sorts — compared as a row value in one direction, the
order of an index (`ix_items_inbox`, `ix_items_rating_inbox`, walked forwards or backwards), so a
page costs its own size rather than the rows before it. Each row carries our newest outbox reply
through a LATERAL join, which runs once per row of the page. Rows are plain columns rather than
ORM objects: a page is only read, and skipping the identity map makes it markedly cheaper.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Subquery,
    cast,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.orm import Session

from core.settings import get_settings
from models import Item, Reply
from models.item import SEARCH_CONFIG
from services.pagination import decode_cursor, encode_cursor
from services.scope import Scope, get_in_scope, in_scope


class Sort(enum.StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    RATING_ASC = "rating_asc"  # lowest rating first; within a rating, oldest first
    RATING_DESC = "rating_desc"  # highest rating first; within a rating, newest first


@dataclass(frozen=True)
class InboxFilters:
    location_ids: Sequence[int] = ()
    source: str | None = None
    kind: str | None = None
    ratings: Sequence[int] = ()
    min_rating: int | None = None
    max_rating: int | None = None
    recommended: bool | None = None
    replied: bool | None = None
    statuses: Sequence[str] = ()
    assignee_user_id: int | None = None
    unassigned: bool = False
    tags: Sequence[str] = ()
    language: str | None = None
    search: str | None = None
    since: datetime | date | None = None  # inclusive; a date means from its first moment
    until: datetime | date | None = None  # exclusive; a date means up to its last moment
    include_deleted: bool = False


@dataclass(frozen=True)
class InboxPage:
    # Item columns by name, plus latest_reply_id and latest_reply_status (None if never replied).
    rows: list[Row[Any]]
    has_more: bool


_HIDDEN = {"organisation_id", "author_external_id", "deleted_at", "created_at", "updated_at"}
PAGE_COLUMNS = [
    c for c in Item.__table__.columns if c.name not in _HIDDEN and c.name != "search_vector"
]
_RATING_KEY = func.coalesce(Item.rating, 0)


_LATEST_REPLY = (
    select(Reply.id.label("latest_reply_id"), Reply.status.label("latest_reply_status"))
    .where(Reply.item_id == Item.id)
    .order_by(Reply.id.desc())
    .limit(1)
    .lateral("latest_reply")
)
# Built once: this part never changes, and a statement built afresh for every page is walked
# again for its compiled-cache key, which took about a third of a page's time in SQLAlchemy.
_PAGE = select(
    *PAGE_COLUMNS,
    _RATING_KEY.label("rating_key"),
    _LATEST_REPLY.c.latest_reply_id,
    _LATEST_REPLY.c.latest_reply_status,
).outerjoin(_LATEST_REPLY, true())


def sort_key(sort: Sort) -> list[ColumnElement[Any]]:
    """The columns a page is ordered by, in the row-value order its cursor holds."""
    if sort in (Sort.NEWEST, Sort.OLDEST):
        return [Item.posted_at, Item.id]
    return [_RATING_KEY, Item.posted_at, Item.id]


def _descending(sort: Sort) -> bool:
    return sort in (Sort.NEWEST, Sort.RATING_DESC)


def inbox_page(
    session: Session,
    *,
    scope: Scope,
    filters: InboxFilters,
    limit: int,
    sort: Sort = Sort.NEWEST,
    after: Sequence[Any] | None = None,
) -> InboxPage:
    statement = page_statement(scope=scope, filters=filters, limit=limit, sort=sort, after=after)
    return page_of(list(session.execute(statement)), limit=limit)


def page_statement(
    *,
    scope: Scope,
    filters: InboxFilters,
    limit: int,
    sort: Sort = Sort.NEWEST,
    after: Sequence[Any] | None = None,
) -> Select[Any]:
    """The one statement of a page, for a caller that sends it inside a statement of its own
    (api.deps joins it to the caller's check); ``page_of`` turns its rows into the page."""
    if filters.search:
        return _searched(scope=scope, filters=filters, limit=limit, sort=sort, after=after)
    query = filtered(_PAGE, scope=scope, filters=filters)
    # One row more than asked says whether there is a next page without counting.
    return ordered(query, sort=sort, after=after).limit(limit + 1)


# How far a search walks the sort's order before it asks the full-text index instead: enough
# for a page of a word in one item in twenty, a few milliseconds when it finds less.
NEARBY_ROWS = 1000


def _searched(
    *,
    scope: Scope,
    filters: InboxFilters,
    limit: int,
    sort: Sort,
    after: Sequence[Any] | None,
) -> Select[Any]:
    """A search's page, cheap whether the words match nothing, a few items or half of them.

    Walking the sort's index and testing ``@@`` on each row finds a page fast when the words are
    common, but walks every item when they are rare or match nothing (24-31 s at a million),
    and the planner cannot tell the two apart for a word outside its statistics (a prefix being
    typed). So the walk is bounded, and the full-text index answers the rest:

    1. ``nearby``: the first ``limit + 1`` matches among the next ``NEARBY_ROWS`` rows of the
       walk. A full page there is the page (a common word: a few hundred rows read).
    2. Otherwise ``hits``: the matches past the page's position from the GIN index, at most
       ``inbox_search_sort_limit`` of them (the LIMIT stops reading the table there). Fewer than
       that are every match, and the page is those sorted.
    3. As many: the words are common past this position but sparse near it, and the unbounded
       walk finds its page.

    Each step is gated on the one before by a one-time filter, so a step not needed never
    runs."""
    cap = get_settings().inbox_search_sort_limit
    key = sort_key(sort)
    names = ["posted_at", "id"] if len(key) == 2 else ["rating_key", "posted_at", "id"]
    descending = _descending(sort)
    past = _past(key, sort=sort, after=after)
    where = [*conditions(scope=scope, filters=filters), *past]
    keys = [c.label(n) for c, n in zip(key, names, strict=True)]

    others = conditions(scope=scope, filters=replace(filters, search=None))
    window = (
        select(*keys, Item.search_vector.label("search_vector"))
        .where(*others, *past)
        .order_by(*(c.desc() if descending else c.asc() for c in key))
        .limit(NEARBY_ROWS)
        .subquery("walked")
    )
    # No ORDER BY here: the LIMIT takes rows as the window's walk yields them, in its order,
    # and stops the walk once it has them (a sort would read the whole window first).
    nearby = (
        select(window.c.id)
        .where(matches(window.c.search_vector, filters.search))
        .limit(limit + 1)
        .cte("nearby")
        .prefix_with("MATERIALIZED")
    )
    found_nearby = select(func.count()).select_from(nearby).scalar_subquery() > limit
    hits = select(*keys).where(*where).limit(cap).cte("hits").prefix_with("MATERIALIZED")
    counted = select(func.count()).select_from(hits).scalar_subquery()
    first = (
        select(hits.c.id)
        .where(~found_nearby, counted < cap)
        .order_by(*(hits.c[n].desc() if descending else hits.c[n].asc() for n in names))
        .limit(limit + 1)
    )
    near = _PAGE.where(Item.id.in_(select(nearby.c.id).where(found_nearby)))
    few = _PAGE.where(Item.id.in_(first))
    many = ordered(_PAGE.where(*where, ~found_nearby, counted >= cap), sort=sort, after=None)
    both = union_all(near, few, many.limit(limit + 1)).subquery("found")
    return select(*both.c).order_by(*page_order(sort, both)).limit(limit + 1)


def _past(key: list[ColumnElement[Any]], *, sort: Sort, after: Sequence[Any] | None) -> list[Any]:
    """The keyset condition: rows after the page's position in the sort's direction."""
    if after is None:
        return []
    position = tuple_(*(literal(v) for v in after))
    return [tuple_(*key) < position if _descending(sort) else tuple_(*key) > position]


def page_order(sort: Sort, page: Subquery) -> list[ColumnElement[Any]]:
    """The page's order over ``page_statement`` taken as a subquery."""
    names = ["posted_at", "id"] if sort in (Sort.NEWEST, Sort.OLDEST) else [
        "rating_key", "posted_at", "id"
    ]  # fmt: skip
    descending = _descending(sort)
    return [page.c[n].desc() if descending else page.c[n].asc() for n in names]


def page_of(rows: list[Row[Any]], *, limit: int) -> InboxPage:
    return InboxPage(rows=rows[:limit], has_more=len(rows) > limit)


def ordered(query: Select[Any], *, sort: Sort, after: Sequence[Any] | None) -> Select[Any]:
    key = sort_key(sort)
    descending = _descending(sort)
    query = query.where(*_past(key, sort=sort, after=after))
    return query.order_by(*(c.desc() if descending else c.asc() for c in key))


def cursor_values(row: Row[Any], sort: Sort) -> list[Any]:
    """The sort key of a page's last row, as it goes into the cursor."""
    if sort in (Sort.NEWEST, Sort.OLDEST):
        return [row.posted_at.isoformat(), row.id]
    return [row.rating_key, row.posted_at.isoformat(), row.id]


def decode_after(cursor: str | None, sort: Sort) -> list[Any] | None:
    """The keyset position an opaque page cursor holds (a 400 if it is not one of ours)."""
    if not cursor:
        return None
    return decode_cursor(f"items:{sort}", cursor, lambda values: parse_cursor_values(values, sort))


def encode_after(row: Any, sort: Sort) -> str:
    """The opaque cursor of the page after ``row``."""
    return encode_cursor(f"items:{sort}", cursor_values(row, sort))


def parse_cursor_values(values: list[Any], sort: Sort) -> list[Any]:
    """The typed sort key of a cursor; ValueError or TypeError if it is not one of ours."""
    expected = len(sort_key(sort))
    if len(values) != expected or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in (values[-1], *values[:-2])
    ):
        raise ValueError
    posted_at = datetime.fromisoformat(values[-2])
    if posted_at.tzinfo is None:
        raise ValueError
    return [*values[:-2], posted_at, values[-1]]


def get_item(session: Session, *, scope: Scope, item_id: int) -> Item:
    """The item, if the caller may see it: another organisation's, or one outside the caller's
    locations, is the same 404 as one that does not exist."""
    return get_in_scope(session, scope, Item, item_id, what="Item")


def item_replies(session: Session, *, item: Item) -> list[Reply]:
    """Our replies to an item already found in scope, newest first."""
    return list(
        session.scalars(
            select(Reply)
            .where(Reply.organisation_id == item.organisation_id, Reply.item_id == item.id)
            .order_by(Reply.id.desc())
        )
    )


def conditions(*, scope: Scope, filters: InboxFilters) -> list[ColumnElement[bool]]:
    """The WHERE clause of a filter, for pages, facets, bulk actions, exports and analytics
    alike, within the caller's scope."""
    where: list[ColumnElement[bool]] = in_scope(Item, scope)
    if filters.location_ids:
        where.append(Item.location_id.in_(filters.location_ids))
    if filters.source is not None:
        where.append(Item.source == filters.source)
    if filters.kind is not None:
        where.append(Item.kind == filters.kind)
    if filters.ratings:
        where.append(Item.rating.in_(filters.ratings))
    if filters.min_rating is not None:
        where.append(Item.rating >= filters.min_rating)
    if filters.max_rating is not None:
        where.append(Item.rating <= filters.max_rating)
    if filters.recommended is not None:
        # A Facebook recommendation is positive or negative; the connector stores it as a rating
        # (legacy stars where Facebook still has them), so the rating's half tells which.
        where.append(Item.kind == "recommendation")
        where.append(Item.rating >= 4 if filters.recommended else Item.rating <= 2)
    if filters.replied is not None:
        where.append(Item.reply_text.is_not(None) if filters.replied else Item.reply_text.is_(None))
    if filters.statuses:
        where.append(Item.status.in_(filters.statuses))
    if filters.assignee_user_id is not None:
        where.append(Item.assignee_user_id == filters.assignee_user_id)
    if filters.unassigned:
        where.append(Item.assignee_user_id.is_(None))
    if filters.tags:
        where.append(Item.tags.contains(list(filters.tags)))
    if filters.language is not None:
        where.append(Item.language == filters.language)
    if filters.search:
        where.append(matches(Item.search_vector, filters.search))
    if filters.since is not None:
        where.append(Item.posted_at >= start_of(filters.since))
    if filters.until is not None and (bound := end_of(filters.until)) is not None:
        where.append(Item.posted_at < bound)
    if not filters.include_deleted:
        where.append(Item.deleted.is_(False))
    return where


def matches(vector: ColumnElement[Any], search: str) -> ColumnElement[bool]:
    """Whether a search vector matches the words; websearch syntax ("quoted phrases",
    -excluded, or) never raises on odd input."""
    config = cast(literal(SEARCH_CONFIG), REGCONFIG)
    return vector.bool_op("@@")(func.websearch_to_tsquery(config, search))


def filtered(query: Select[Any], *, scope: Scope, filters: InboxFilters) -> Select[Any]:
    return query.where(*conditions(scope=scope, filters=filters))


def start_of(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)


def end_of(value: datetime | date) -> datetime | None:
    """The exclusive bound of ``until``; None if no moment follows it."""
    if isinstance(value, datetime):
        return value
    if value == date.max:
        return None  # no day follows it, and nothing is posted that late
    return start_of(value + timedelta(days=1))
