"""Throttling failed log-ins, counted in PostgreSQL by its own clock.

Three counts over the window, so that an attacker neither guesses freely nor locks anyone out:

- per (account, client) pair, a small limit: past it that client is refused for that account
  (429 with Retry-After) until the window frees a place; other clients are not affected;
- per account, across all clients, and per client, across all accounts, higher ceilings past
  which log-ins are *slowed*, never refused for good: each further attempt waits twice as long
  after the latest failure as the one before, up to a few seconds' cap. The owner behind a
  guessed-at account, and the office behind a noisy address, still get in.

A failure is written in its own transaction: the request that reports it ends in an error and
its own transaction is rolled back. A success clears its pair's failures only, so that logging
in from one's own device does not wipe what an attacker elsewhere has spent.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from core.errors import RateLimited
from core.settings import get_settings
from models import LoginFailure
from models.db import session_scope
from services.accounts.windows import wait_for_room


def check(session: Session, *, email_index: str, client: str) -> None:
    """Refuse (429 with Retry-After) a locked pair, or a slowed account or client too soon."""
    settings = get_settings()
    now: datetime = session.scalar(select(func.now()))
    window = timedelta(seconds=settings.login_failure_window_seconds)
    waits = [
        _pair_wait(session, email_index=email_index, client=client, now=now, window=window),
        _slowdown_wait(
            session,
            LoginFailure.email_index == email_index,
            after=settings.login_slowdown_after_account_failures,
            now=now,
            window=window,
        ),
        _slowdown_wait(
            session,
            LoginFailure.ip == client,
            after=settings.login_slowdown_after_client_failures,
            now=now,
            window=window,
        ),
    ]
    wait = max(waits)
    if wait > 0:
        raise RateLimited(
            "too_many_attempts",
            "Too many failed log-ins; try again later",
            headers={"Retry-After": str(math.ceil(wait))},
        )


def _pair_wait(
    session: Session, *, email_index: str, client: str, now: datetime, window: timedelta
) -> float:
    wait = wait_for_room(
        session,
        LoginFailure.created_at,
        LoginFailure.email_index == email_index,
        LoginFailure.ip == client,
        limit=get_settings().login_max_failures_per_account_client,
        now=now,
        window=window,
    )
    return 0.0 if wait is None else max(1.0, wait)


def _slowdown_wait(
    session: Session,
    condition: ColumnElement[bool],
    *,
    after: int,
    now: datetime,
    window: timedelta,
) -> float:
    count, latest = session.execute(
        select(func.count(), func.max(LoginFailure.created_at)).where(
            condition, LoginFailure.created_at > now - window
        )
    ).one()
    if count < after:
        return 0.0
    # 1 s at the ceiling, doubling with each failure past it, capped: slow, never locked.
    cap = get_settings().login_slowdown_max_seconds
    delay = min(float(cap), 2.0 ** min(count - after, 30))
    return (latest + timedelta(seconds=delay) - now).total_seconds()


def record_failure(*, email_index: str, client: str) -> None:
    window = timedelta(seconds=get_settings().login_failure_window_seconds)
    with session_scope() as session:
        # Rows past the window count for nothing; each failure prunes its own account's and
        # client's, so the table stays the size of the current attacks.
        session.execute(
            delete(LoginFailure).where(
                or_(LoginFailure.email_index == email_index, LoginFailure.ip == client),
                LoginFailure.created_at < func.now() - window,
            )
        )
        session.add(LoginFailure(email_index=email_index, ip=client))


def clear(session: Session, *, email_index: str, client: str) -> None:
    """A success from this client ends its pair's lock; the account's and the client's totals
    keep counting what others spent."""
    session.execute(
        delete(LoginFailure).where(
            LoginFailure.email_index == email_index, LoginFailure.ip == client
        )
    )
