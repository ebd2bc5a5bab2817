"""Throttling failed log-ins, counted in PostgreSQL so that every API process sees the same.

Guessing is stopped without locking out bystanders:
- one account from one client address (the pair) may fail a few times, then that pair waits
  out the window — the real owner, elsewhere, is not affected;
- an account failing from many addresses, or an address failing against many accounts (an
  office behind one gateway), is *slowed*: one attempt per growing interval, capped, never a
  lock-out;
- a success clears the pair. Password resets never look at any of this.

A failure is written in its own transaction: the request that reports it ends in an error and
its own transaction is rolled back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from api.errors import ApiError
from models import LoginFailure
from models.db import session_scope
from plaudit.settings import get_settings


def _refused(wait: timedelta) -> ApiError:
    return ApiError(
        429,
        "too_many_attempts",
        "Too many failed log-ins; try again later",
        headers={"Retry-After": str(max(1, int(wait.total_seconds()) + 1))},
    )


def check(session: Session, *, email_index: str, ip: str, now: datetime | None = None) -> None:
    """Refuse (429 with Retry-After) while the pair waits or the account/address is slowed."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    window = timedelta(seconds=settings.login_failure_window_seconds)
    since = now - window
    pair = and_(LoginFailure.email_index == email_index, LoginFailure.ip == ip)
    count, oldest = _recent(session, pair, since, settings.login_max_failures_per_client)
    if count >= settings.login_max_failures_per_client:
        raise _refused(oldest + window - now)
    for where, ceiling in (
        (LoginFailure.email_index == email_index, settings.login_max_failures_per_account),
        (LoginFailure.ip == ip, settings.login_max_failures_per_ip),
    ):
        count, newest = session.execute(
            select(func.count(), func.max(LoginFailure.created_at)).where(
                where, LoginFailure.created_at > since
            )
        ).one()
        if count >= ceiling:
            # 1 s, 2 s, 4 s … after the newest failure, capped: guessing slows to a crawl while
            # a person who knows their password gets in within a minute.
            delay = min(2.0 ** (count - ceiling), settings.login_slowdown_max_seconds)
            wait = newest + timedelta(seconds=delay) - now
            if wait > timedelta(0):
                raise _refused(wait)


def _recent(
    session: Session, where: ColumnElement[bool], since: datetime, limit: int
) -> tuple[int, datetime]:
    # The oldest failure that still counts says when the window frees a place.
    recent = (
        select(LoginFailure.created_at)
        .where(where, LoginFailure.created_at > since)
        .order_by(LoginFailure.created_at.desc())
        .limit(limit)
        .subquery()
    )
    count, oldest = session.execute(select(func.count(), func.min(recent.c.created_at))).one()
    return count, oldest


def record_failure(*, email_index: str, ip: str) -> None:
    window = timedelta(seconds=get_settings().login_failure_window_seconds)
    with session_scope() as session:
        # Rows past the window count for nothing; each failure prunes its own account's and
        # address's, so the table stays the size of the current attacks.
        session.execute(
            delete(LoginFailure).where(
                or_(LoginFailure.email_index == email_index, LoginFailure.ip == ip),
                LoginFailure.created_at < datetime.now(UTC) - window,
            )
        )
        session.add(LoginFailure(email_index=email_index, ip=ip))


def clear(session: Session, *, email_index: str, ip: str) -> None:
    """After a success: this client's failures on the account no longer count."""
    session.execute(
        delete(LoginFailure).where(LoginFailure.email_index == email_index, LoginFailure.ip == ip)
    )
