"""Analytics over the inbox."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.items import InboxFilterIn
from services.inbox.analytics import Period


class AnalyticsQuery(InboxFilterIn):
    period: Period = Period.DAY


class PeriodOut(BaseModel):
    period_start: datetime
    count: int = Field(description="New items in the period.")
    average_rating: float | None


class AnalyticsOut(BaseModel):
    series: list[PeriodOut]
    rating_distribution: dict[str, int] = Field(description="Items by stars.")
    total: int
    replied: int
    reply_rate: float | None = Field(description="Replied items / all items; null if none.")
    median_seconds_to_reply: float | None
    p90_seconds_to_reply: float | None
    reply_times_estimated: bool = Field(
        description="The reply times come from the organisation's rollups (no filter but the "
        "date range, a caller of every location): each within 5 % of the exact percentile."
    )
