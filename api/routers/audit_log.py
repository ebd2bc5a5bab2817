"""The audit log: who changed what, when and from where (admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import AdminScope, CursorParam, SessionDep
from api.errors import ErrorResponse
from api.schemas.audit import AuditEventOut, AuditPage
from api.schemas.common import SafeText
from api.schemas.items import Instant
from services import audit_log, pagination
from services.inbox.inbox import start_of

router = APIRouter(prefix="/audit-events", tags=["audit"])


@router.get(
    "",
    summary="The organisation's audit log, newest first",
    responses={400: {"model": ErrorResponse, "description": "The cursor is invalid"}},
)
def list_events(
    scope: AdminScope,
    session: SessionDep,
    action: Annotated[SafeText | None, Query(max_length=100, examples=["reply.created"])] = None,
    since: Annotated[Instant | None, Query(description="At or after")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorParam = None,
) -> AuditPage:
    before_id = pagination.before_id("audit", cursor)
    rows, has_more = audit_log.events(
        session,
        scope=scope,
        limit=limit,
        before_id=before_id,
        action=action,
        since=start_of(since) if since is not None else None,
    )
    return AuditPage(
        events=[AuditEventOut.model_validate(row) for row in rows],
        next_cursor=pagination.next_by_id("audit", rows, has_more=has_more),
    )
