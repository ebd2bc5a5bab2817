"""Analytics for any inbox filter and date range, by day, week or month."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CurrentScope, SessionDep
from api.schemas.analytics import AnalyticsOut, AnalyticsQuery, PeriodOut
from services.inbox import analytics

router = APIRouter(prefix="/analytics", tags=["analytics"])


@router.get("", summary="Counts, average rating, distribution, reply rate and reply times")
def get_analytics(
    query: Annotated[AnalyticsQuery, Query()], scope: CurrentScope, session: SessionDep
) -> AnalyticsOut:
    result = analytics.report(session, scope=scope, filters=query.filters(), period=query.period)
    return AnalyticsOut(
        series=[PeriodOut(**point) for point in result.series],
        rating_distribution=result.rating_distribution,
        total=result.total,
        replied=result.replied,
        reply_rate=result.reply_rate,
        median_seconds_to_reply=result.median_seconds_to_reply,
        p90_seconds_to_reply=result.p90_seconds_to_reply,
        reply_times_estimated=result.reply_times_estimated,
    )
