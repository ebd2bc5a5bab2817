"""Reading the audit log: newest first, keyset-paginated on id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AuditEvent
from services.scope import Scope, in_scope


def events(
    session: Session,
    *,
    scope: Scope,
    limit: int,
    before_id: int | None,
    action: str | None,
    since: datetime | None,
) -> tuple[list[AuditEvent], bool]:
    query = select(AuditEvent).where(*in_scope(AuditEvent, scope))
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    rows = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit
