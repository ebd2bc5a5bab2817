"""Throttling failed log-ins per account and per client address, counted in PostgreSQL.

A failure is written in its own transaction: the request that reports it ends in an error and
its own transaction is rolled back. A success clears the account's failures.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from api.errors import ApiError
from models import LoginFailure
from models.db import session_scope
from plaudit.settings import get_settings


def check(session: Session, *, email_index: str, ip: str) -> None:
    """Refuse (429 with Retry-After) while the account or the address has too many failures."""
    settings = get_settings()
    now = datetime.now(UTC)
    since = now - timedelta(seconds=settings.login_failure_window_seconds)
    for column, value, limit in (
        (LoginFailure.email_index, email_index, settings.login_max_failures_per_account),
        (LoginFailure.ip, ip, settings.login_max_failures_per_ip),
    ):
        # The oldest failure that still counts says when the window frees a place.
        recent = (
            select(LoginFailure.created_at)
            .where(column == value, LoginFailure.created_at > since)
            .order_by(LoginFailure.created_at.desc())
            .limit(limit)
            .subquery()
        )
        count, oldest = session.execute(select(func.count(), func.min(recent.c.created_at))).one()
        if count >= limit:
            wait = oldest + timedelta(seconds=settings.login_failure_window_seconds) - now
            raise ApiError(
                429,
                "too_many_attempts",
                "Too many failed log-ins; try again later",
                headers={"Retry-After": str(max(1, int(wait.total_seconds()) + 1))},
            )


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


def clear(session: Session, *, email_index: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.email_index == email_index))
