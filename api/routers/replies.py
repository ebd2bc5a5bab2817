"""Replies in the outbox: their delivery state, and the approval flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api import audit
from api.deps import CurrentMember, ManagerMember, SessionDep
from api.errors import ErrorResponse
from api.pagination import decode_cursor, encode_cursor, strict_int
from api.schemas.common import Id, SafeText
from api.schemas.replies import ReplyEnvelope, ReplyOut, ReplyPage, ReplyState
from api.services import replies

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
    member: CurrentMember,
    session: SessionDep,
    status: ReplyState | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[SafeText | None, Query(max_length=500)] = None,
) -> ReplyPage:
    before_id = decode_cursor("replies", cursor, lambda v: strict_int(v[0])) if cursor else None
    rows, has_more = replies.list_replies(
        session,
        organisation_id=member.organisation_id,
        status=status,
        before_id=before_id,
        limit=limit,
        location_ids=member.location_ids,
    )
    return ReplyPage(
        replies=[ReplyOut.model_validate(row) for row in rows],
        next_cursor=encode_cursor("replies", [rows[-1].id]) if has_more else None,
    )


@router.get("/{reply_id}", summary="A reply's delivery state", responses=_NOT_FOUND)
def get_reply(reply_id: Id, member: CurrentMember, session: SessionDep) -> ReplyEnvelope:
    reply = replies.get_reply(
        session,
        organisation_id=member.organisation_id,
        reply_id=reply_id,
        location_ids=member.location_ids,
    )
    return ReplyEnvelope(reply=ReplyOut.model_validate(reply))


@router.post(
    "/{reply_id}/approve", summary="Approve a reply so it is sent (manager)", responses=_DECISION
)
def approve(
    reply_id: Id, member: ManagerMember, session: SessionDep, request: Request
) -> ReplyEnvelope:
    return _decide(session, request, member, reply_id, approve=True)


@router.post(
    "/{reply_id}/reject", summary="Reject a reply: it is never sent (manager)", responses=_DECISION
)
def reject(
    reply_id: Id, member: ManagerMember, session: SessionDep, request: Request
) -> ReplyEnvelope:
    return _decide(session, request, member, reply_id, approve=False)


def _decide(
    session: SessionDep, request: Request, member: ManagerMember, reply_id: int, *, approve: bool
) -> ReplyEnvelope:
    reply = replies.decide(
        session,
        organisation_id=member.organisation_id,
        reply_id=reply_id,
        user_id=member.user_id,
        approve=approve,
        location_ids=member.location_ids,
    )
    audit.record_by(
        session,
        request=request,
        member=member,
        action="reply.approved" if approve else "reply.rejected",
        target_type="reply",
        target_id=reply.id,
    )
    return ReplyEnvelope(reply=ReplyOut.model_validate(reply))
