"""Analytics computed in SQL over the inbox: per period, distribution, reply rate and speed.

Two statements over the organisation's items in the range (within the caller's locations), each
one pass and, for the usual filters, index-only: the counts (periods, distribution, total) read
`ix_items_inbox` and its included columns; the reply rate and times read the partial index of
replied items and the one of items whose reply was removed but whose reply time stays
(`ix_items_analytics_replied`, `_reply_removed`) as the two halves of a UNION ALL, each half
carrying its index's predicate. Nothing is loaded into Python
but results, and the figures are exactly what avg, count and percentile_cont over the matching
items give.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Numeric,
    Select,
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

from models import Item
from models.item import ANALYTICS_DAY
from services.inbox.inbox import InboxFilters, conditions
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


# GROUPING() of (period, rating) for each grouping set of the counts statement.
_BY_PERIOD, _BY_RATING = 1, 2


def report(
    session: Session,
    *,
    scope: Scope,
    filters: InboxFilters,
    period: Period,
) -> Report:
    where = conditions(scope=scope, filters=filters)
    series: list[dict[str, Any]] = []
    distribution: dict[str, int] = {}
    total = 0
    for row in session.execute(_counts(where, period)):
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


def _counts(where: list[ColumnElement[bool]], period: Period) -> Select[Any]:
    """Rows of (grouping, period, rating, count, average): one a period (grouping _BY_PERIOD),
    one a rating (_BY_RATING) and one for everything."""
    # Items are counted by UTC day and rating, and those few thousand rows by period and by
    # rating afterwards: UTC calendar days, ISO weeks from Monday and months are whole UTC days.
    days = (
        select(
            func.date_trunc(period.value, ANALYTICS_DAY, literal("UTC")).label("period"),
            Item.rating,
            func.count().label("item_count"),
        )
        .where(*where)
        .group_by(ANALYTICS_DAY, Item.rating)
        .subquery("days")
    )
    items = days.c.item_count
    # Exactly avg(rating) over the items: PostgreSQL's avg of integers is the numeric division
    # of their sum by their count, and sum() of bigints is numeric.
    average = func.sum(items * days.c.rating, type_=Numeric) / func.sum(
        items, type_=Numeric
    ).filter(days.c.rating.is_not(None))
    return (
        select(
            func.grouping(days.c.period, days.c.rating).label("grouping"),
            days.c.period,
            days.c.rating,
            cast(func.sum(items), BigInteger).label("count"),
            cast(average, Float).label("average"),
        )
        .group_by(func.grouping_sets(days.c.period, days.c.rating, tuple_()))
        .order_by(days.c.period, days.c.rating)
    )


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
