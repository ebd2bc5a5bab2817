"""Replies in the outbox: their delivery state, and the approval flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api import audit
from api.deps import CurrentScope, CursorParam, ManagerScope, ResponderScope, SessionDep
from api.errors import ErrorResponse
from api.schemas.common import Id
from api.schemas.replies import ReplyEdit, ReplyEnvelope, ReplyOut, ReplyPage, ReplyState
from services import pagination
from services.replies import replies

router = APIRouter(prefix="/replies", tags=["replies"])

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "No such reply here"}}
_DECISION = {
    **_NOT_FOUND,
    409: {"model": ErrorResponse, "description": "The reply is not awaiting approval"},
}


@router.get(
    "",
    summary="The organisation's replies, newest first (e.g. those awaiting approval)",
    responses={400: {"model": ErrorResponse, "description": "The cursor is invalid"}},
)
def list_replies(
    scope: CurrentScope,
    session: SessionDep,
    status: ReplyState | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: CursorParam = None,
) -> ReplyPage:
    before_id = pagination.before_id("replies", cursor)
    rows, has_more = replies.list_replies(
        session,
        scope=scope,
        status=status,
        before_id=before_id,
        limit=limit,
    )
    return ReplyPage(
        replies=[ReplyOut.model_validate(row) for row in rows],
        next_cursor=pagination.next_by_id("replies", rows, has_more=has_more),
    )


@router.get("/{reply_id}", summary="A reply's delivery state", responses=_NOT_FOUND)
def get_reply(reply_id: Id, scope: CurrentScope, session: SessionDep) -> ReplyEnvelope:
    reply = replies.get_reply(session, scope=scope, reply_id=reply_id)
    return ReplyEnvelope(reply=ReplyOut.model_validate(reply))


_QUEUED = {
    **_NOT_FOUND,
    409: {
        "model": ErrorResponse,
        "description": "No longer queued: `reply_sending` (the reply worker has it), "
        "`reply_sent`, `reply_cancelled`; for an edit also `reply_attempted` (an attempt to "
        "send it began) and `reply_is_delete` (a deletion has no text)",
    },
    422: {
        "model": ErrorResponse,
        "description": "Invalid text (too long for the provider, personal data not "
        "confirmed), naming `text`",
    },
}


@router.patch(
    "/{reply_id}",
    summary="Change the text of a reply not yet sent (responder)",
    description="A queued, awaiting, rejected or failed reply that no attempt has begun to "
    "send. Where replies need approval and the caller's role does too, the edited reply awaits "
    "approval again; a rejected or failed one edited is submitted again.",
    responses=_QUEUED,
)
def edit_reply(
    reply_id: Id, body: ReplyEdit, scope: ResponderScope, session: SessionDep, request: Request
) -> ReplyEnvelope:
    reply = replies.edit_queued(
        session,
        scope=scope,
        reply_id=reply_id,
        text=body.text,
        confirm_personal_data=body.confirm_personal_data,
    )
    audit.record(
        session,
        request=request,
        scope=scope,
        action="reply.edited",
        target_type="reply",
        target_id=reply.id,
        details={"item_id": reply.item_id, "status": reply.status},
    )
    return ReplyEnvelope(reply=ReplyOut.model_validate(reply))


@router.post(
    "/{reply_id}/cancel",
    summary="Withdraw a reply not yet sent: it is never sent (responder)",
    description="Cancelling a cancelled reply answers it again, unchanged.",
    responses=_QUEUED,
)
def cancel_reply(
    reply_id: Id, scope: ResponderScope, session: SessionDep, request: Request
) -> ReplyEnvelope:
    reply, cancelled = replies.cancel_queued(session, scope=scope, reply_id=reply_id)
    if cancelled:
        audit.record(
            session,
            request=request,
            scope=scope,
            action="reply.cancelled",
            target_type="reply",
            target_id=reply.id,
            details={"item_id": reply.item_id},
        )
    return ReplyEnvelope(reply=ReplyOut.model_validate(reply))


@router.post(
    "/{reply_id}/approve", summary="Approve a reply so it is sent (manager)", responses=_DECISION
)
def approve(
    reply_id: Id, scope: ManagerScope, session: SessionDep, request: Request
) -> ReplyEnvelope:
    return _decide(session, request, scope, reply_id, approve=True)


@router.post(
    "/{reply_id}/reject", summary="Reject a reply: it is never sent (manager)", responses=_DECISION
)
def reject(
    reply_id: Id, scope: ManagerScope, session: SessionDep, request: Request
) -> ReplyEnvelope:
    return _decide(session, request, scope, reply_id, approve=False)


def _decide(
    session: SessionDep, request: Request, scope: ManagerScope, reply_id: int, *, approve: bool
) -> ReplyEnvelope:
    reply = replies.decide(session, scope=scope, reply_id=reply_id, approve=approve)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="reply.approved" if approve else "reply.rejected",
        target_type="reply",
        target_id=reply.id,
    )
    return ReplyEnvelope(reply=ReplyOut.model_validate(reply))
