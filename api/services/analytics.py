"""Analytics computed in SQL over the inbox: per period, distribution, reply rate and speed.

Each figure is one aggregate statement over the organisation's items in the range (within the
caller's locations), using the inbox indexes for the organisation and date bounds; nothing is
loaded into Python but results.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, cast, extract, func, literal, select
from sqlalchemy.orm import Session

from api.scope import LocationIds
from api.services.inbox import InboxFilters, conditions
from models import Item


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


def report(
    session: Session,
    *,
    organisation_id: int,
    filters: InboxFilters,
    period: Period,
    location_ids: LocationIds = None,
) -> Report:
    where = conditions(organisation_id=organisation_id, filters=filters, location_ids=location_ids)
    # Periods are UTC calendar days, ISO weeks (Monday) and months.
    bucket = func.date_trunc(period.value, Item.posted_at, literal("UTC")).label("period")
    series = [
        {
            "period_start": row.period,
            "count": row.count,
            "average_rating": None if row.average is None else round(row.average, 3),
        }
        for row in session.execute(
            select(
                bucket,
                func.count().label("count"),
                cast(func.avg(Item.rating), Float).label("average"),
            )
            .where(*where)
            .group_by(bucket)
            .order_by(bucket)
        )
    ]
    distribution = {
        str(rating): count
        for rating, count in session.execute(
            select(Item.rating, func.count())
            .where(*where, Item.rating.is_not(None))
            .group_by(Item.rating)
            .order_by(Item.rating)
        ).tuples()
    }
    seconds = _seconds_to_reply()
    totals = session.execute(
        select(
            func.count().label("total"),
            func.count(Item.reply_text).label("replied"),
            func.percentile_cont(0.5).within_group(seconds).label("median"),
            func.percentile_cont(0.9).within_group(seconds).label("p90"),
        ).where(*where)
    ).one()
    return Report(
        series=series,
        rating_distribution=distribution,
        total=totals.total,
        replied=totals.replied,
        reply_rate=round(totals.replied / totals.total, 4) if totals.total else None,
        median_seconds_to_reply=totals.median,
        p90_seconds_to_reply=totals.p90,
    )


def _seconds_to_reply() -> ColumnElement[Any]:
    # The provider's reply time, for replies made here or elsewhere; NULL (ignored) if none.
    return extract("epoch", Item.reply_updated_at - Item.posted_at)
