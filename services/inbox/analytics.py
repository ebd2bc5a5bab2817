"""Analytics computed in SQL over the inbox: per period, distribution, reply rate and speed.

Two statements over the organisation's items in the range (within the caller's locations), each
one pass and, for the usual filters, index-only: the counts (periods, distribution, total) read
`ix_items_inbox` and its included columns; the reply rate and times read the partial index of
replied items and the one of items whose reply was removed but whose reply time stays
(`ix_items_analytics_replied`, `_reply_removed`) as the two halves of a UNION ALL, each half
carrying its index's predicate. Nothing is loaded into Python
but results, and the figures are exactly what avg, count and percentile_cont over the matching
items give.

Over the whole organisation (a caller not limited to some locations, no filter but whole UTC
days of posting and whether deleted items count), the same figures come from the rollups the
items table keeps (models/analytics_rollup.py), a few thousand rows rather than a million: the
counts, distribution, total and replied are exact, and the reply times are read from buckets of
10 % width, within 5 % of the exact percentile (``reply_times_estimated`` says which it is).
"""

from __future__ import annotations

import enum
import math
from dataclasses import Field, dataclass, fields
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    TIMESTAMP,
    BigInteger,
    ColumnElement,
    Float,
    Numeric,
    Select,
    Subquery,
    cast,
    extract,
    false,
    func,
    literal,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session

from models import AnalyticsDay, AnalyticsReplyTime, Item
from models.analytics_rollup import REPLY_BUCKET_RATIO
from models.item import ANALYTICS_DAY
from services.inbox.inbox import InboxFilters, conditions, end_of, start_of
from services.scope import Scope


class Period(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Report:
    series: list[dict[str, Any]]
    rating_distribution: dict[str, int]
    total: int
    replied: int
    reply_rate: float | None
    median_seconds_to_reply: float | None
    p90_seconds_to_reply: float | None
    reply_times_estimated: bool = False  # from the rollups' buckets: within 5 %


# GROUPING() of (period, rating) for each grouping set of the counts statement.
_BY_PERIOD, _BY_RATING = 1, 2


def report(
    session: Session,
    *,
    scope: Scope,
    filters: InboxFilters,
    period: Period,
) -> Report:
    days = _rolled_up_days(scope, filters)
    if days is not None:
        return _from_rollups(session, scope.organisation_id, filters, period, days)
    return exact_report(session, scope=scope, filters=filters, period=period)


def exact_report(
    session: Session,
    *,
    scope: Scope,
    filters: InboxFilters,
    period: Period,
) -> Report:
    """The report from the items themselves, whatever the filter; percentiles exact."""
    where = conditions(scope=scope, filters=filters)
    series, distribution, total = _read_counts(session, _counts(_item_days(where, period)))
    replies = session.execute(_replies(where, filters.replied)).one()
    return Report(
        series=series,
        rating_distribution=distribution,
        total=total,
        replied=replies.replied,
        reply_rate=round(replies.replied / total, 4) if total else None,
        median_seconds_to_reply=replies.median,
        p90_seconds_to_reply=replies.p90,
    )


def _read_counts(
    session: Session, statement: Select[Any]
) -> tuple[list[dict[str, Any]], dict[str, int], int]:
    series: list[dict[str, Any]] = []
    distribution: dict[str, int] = {}
    total = 0
    for row in session.execute(statement):
        if row.grouping == _BY_PERIOD:
            series.append(
                {
                    "period_start": row.period,
                    "count": row.count,
                    "average_rating": None if row.average is None else round(row.average, 3),
                }
            )
        elif row.grouping == _BY_RATING:
            if row.rating is not None:
                distribution[str(row.rating)] = row.count
        else:
            total = row.count or 0  # a sum over no rows is NULL
    return series, distribution, total


def _item_days(where: list[ColumnElement[bool]], period: Period) -> Subquery:
    # Items are counted by UTC day and rating, and those few thousand rows by period and by
    # rating afterwards: UTC calendar days, ISO weeks from Monday and months are whole UTC days.
    return (
        select(
            func.date_trunc(period.value, ANALYTICS_DAY, literal("UTC")).label("period"),
            Item.rating,
            func.count().label("item_count"),
        )
        .where(*where)
        .group_by(ANALYTICS_DAY, Item.rating)
        .subquery("days")
    )


def _counts(days: Subquery) -> Select[Any]:
    """Rows of (grouping, period, rating, count, average): one a period (grouping _BY_PERIOD),
    one a rating (_BY_RATING) and one for everything, from rows of (period, rating,
    item_count)."""
    items = days.c.item_count
    # Exactly avg(rating) over the items: PostgreSQL's avg of integers is the numeric division
    # of their sum by their count, and sum() of bigints is numeric. (A rollup's empty rows make
    # a count of rated items 0 where the items would have given none: NULL either way.)
    rated = func.sum(items, type_=Numeric).filter(days.c.rating.is_not(None))
    average = func.sum(items * days.c.rating, type_=Numeric) / func.nullif(rated, 0)
    return (
        select(
            func.grouping(days.c.period, days.c.rating).label("grouping"),
            days.c.period,
            days.c.rating,
            cast(func.sum(items), BigInteger).label("count"),
            cast(average, Float).label("average"),
        )
        .group_by(func.grouping_sets(days.c.period, days.c.rating, tuple_()))
        # A rollup keeps rows whose items all went: no period or rating of none.
        .having(func.sum(items) > 0)
        .order_by(days.c.period, days.c.rating)
    )


def _rolled_up_days(scope: Scope, filters: InboxFilters) -> tuple[date | None, date | None] | None:
    """The [first, last) UTC days of posting if the rollups answer this caller and filter."""
    if scope.location_ids is not None:
        return None
    if any(_narrows(filters, field) for field in fields(InboxFilters) if field.name not in _DAYS):
        return None
    first = last = None
    if filters.since is not None:
        first = _whole_day(start_of(filters.since))
        if first is None:
            return None
    if filters.until is not None and (bound := end_of(filters.until)) is not None:
        last = _whole_day(bound)
        if last is None:
            return None
    return first, last


# What the rollups can answer besides the whole organisation.
_DAYS = ("since", "until", "include_deleted")


def _narrows(filters: InboxFilters, field: Field[Any]) -> bool:
    # From the API, "no locations" is an empty list where the default is an empty tuple.
    value = getattr(filters, field.name)
    return not (value == field.default or (isinstance(value, list | tuple) and not value))


def _whole_day(moment: datetime) -> date | None:
    """The UTC day starting at ``moment``, if it is a UTC midnight."""
    utc = moment.astimezone(UTC)
    return utc.date() if utc.time() == time.min else None


def _from_rollups(
    session: Session,
    organisation_id: int,
    filters: InboxFilters,
    period: Period,
    days: tuple[date | None, date | None],
) -> Report:
    def within(table: type[AnalyticsDay] | type[AnalyticsReplyTime]) -> list[ColumnElement[bool]]:
        where = [table.organisation_id == organisation_id]
        if not filters.include_deleted:
            where.append(table.deleted.is_(False))
        if days[0] is not None:
            where.append(table.day >= days[0])
        if days[1] is not None:
            where.append(table.day < days[1])
        return where

    utc_midnight = func.timezone(literal("UTC"), cast(AnalyticsDay.day, TIMESTAMP))
    rolled = (
        select(
            func.date_trunc(period.value, utc_midnight, literal("UTC")).label("period"),
            func.nullif(AnalyticsDay.rating, 0).label("rating"),
            AnalyticsDay.items.label("item_count"),
        )
        .where(*within(AnalyticsDay))
        .subquery("days")
    )
    series, distribution, total = _read_counts(session, _counts(rolled))
    replied = int(
        session.scalar(
            select(func.coalesce(func.sum(AnalyticsDay.replied), 0)).where(*within(AnalyticsDay))
        )
    )
    buckets = session.execute(
        select(AnalyticsReplyTime.bucket, func.sum(AnalyticsReplyTime.items))
        .where(*within(AnalyticsReplyTime))
        .group_by(AnalyticsReplyTime.bucket)
        .having(func.sum(AnalyticsReplyTime.items) > 0)
        .order_by(AnalyticsReplyTime.bucket)
    ).all()
    histogram = [(bucket, int(count)) for bucket, count in buckets]
    return Report(
        series=series,
        rating_distribution=distribution,
        total=total,
        replied=replied,
        reply_rate=round(replied / total, 4) if total else None,
        median_seconds_to_reply=_percentile(histogram, 0.5),
        p90_seconds_to_reply=_percentile(histogram, 0.9),
        reply_times_estimated=True,
    )


def _percentile(histogram: list[tuple[int, int]], q: float) -> float | None:
    """percentile_cont(q) over the reply times the buckets hold, each time standing for its
    bucket's geometric middle (within 5 % of it; 0.5 s for bucket -1, under a second)."""
    n = sum(count for _, count in histogram)
    if n == 0:
        return None
    position = q * (n - 1)
    below, above = math.floor(position), math.ceil(position)

    def value_at(rank: int) -> float:
        seen = 0
        for bucket, count in histogram:
            seen += count
            if rank < seen:
                return 0.5 if bucket < 0 else REPLY_BUCKET_RATIO ** (bucket + 0.5)
        raise AssertionError("rank beyond the histogram")

    low = value_at(below)
    return low + (position - below) * (value_at(above) - low)


def _replies(where: list[ColumnElement[bool]], replied_filter: bool | None) -> Select[Any]:
    """One row: how many items the provider shows a reply on, and the median and 90th
    percentile of the reply times (replied items, and those whose reply was removed since)."""
    seconds = _seconds_to_reply().label("seconds")
    halves = []
    if replied_filter is not False:
        halves.append(
            select(seconds, true().label("replied")).where(*where, Item.reply_text.is_not(None))
        )
    if replied_filter is not True:
        halves.append(
            select(seconds, false().label("replied")).where(
                *where, Item.reply_text.is_(None), Item.reply_updated_at.is_not(None)
            )
        )
    rows = (halves[0] if len(halves) == 1 else union_all(*halves)).subquery("replies")
    return select(
        func.count().filter(rows.c.replied).label("replied"),
        func.percentile_cont(0.5).within_group(rows.c.seconds).label("median"),
        func.percentile_cont(0.9).within_group(rows.c.seconds).label("p90"),
    )


def _seconds_to_reply() -> ColumnElement[Any]:
    # The provider's reply time, for replies made here or elsewhere; NULL (ignored) if none.
    return extract("epoch", Item.reply_updated_at - Item.posted_at)
