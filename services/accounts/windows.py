"""Counting what happened recently: rows created within a sliding window, as the limits on
account e-mails and on failed log-ins count them (in PostgreSQL, by its clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session


def wait_for_room(
    session: Session,
    created_at: InstrumentedAttribute[datetime],
    *where: ColumnElement[bool],
    limit: int,
    now: datetime,
    window: timedelta,
) -> float | None:
    """None while fewer than ``limit`` rows meeting ``where`` were created in the ``window``
    before ``now``; otherwise the seconds until the oldest of the newest ``limit`` leaves it,
    which frees a place (a limit of 0 is never free: the whole window). Only ``limit`` rows
    are read, however many there are."""
    recent = (
        select(created_at)
        .where(*where, created_at > now - window)
        .order_by(created_at.desc())
        .limit(limit)
        .subquery()
    )
    column: Any = next(iter(recent.c))
    count, oldest = session.execute(select(func.count(), func.min(column))).one()
    if count < limit:
        return None
    if oldest is None:  # a limit of 0: there is never room
        return window.total_seconds()
    return (oldest + window - now).total_seconds()
