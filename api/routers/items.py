"""The inbox: filtered pages, facets, bulk actions, one item, its workflow, notes and replies."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import audit
from api.deps import (
    CallerCredentials,
    Credentials,
    CurrentMember,
    ManagerMember,
    Member,
    ResponderMember,
    SessionDep,
    authenticate,
)
from api.errors import ErrorResponse
from api.schemas.common import Id
from api.schemas.items import (
    BulkIn,
    BulkOut,
    FacetsOut,
    InboxFilterIn,
    InboxQuery,
    ItemDetail,
    ItemOut,
    ItemPage,
    ItemPatch,
    NoteIn,
    NoteList,
    NoteOut,
    ReplyLimit,
    ReplyRef,
)
from api.schemas.replies import ReplyEnvelope, ReplyIn, ReplyOut
from api.services import export, inbox, replies, workflow
from api.services.facets import facets as count_facets
from api.services.inbox import Sort
from models import ReplyAction
from models.db import session_scope

router = APIRouter(prefix="/items", tags=["items"])

_NOT_FOUND = {404: {"model": ErrorResponse, "description": "No such item here"}}


@router.get(
    "",
    summary="The inbox: filtered, sorted, keyset-paginated",
    response_model=ItemPage,
    responses={400: {"model": ErrorResponse, "description": "The cursor is invalid"}},
)
async def list_items(
    query: Annotated[InboxQuery, Query()], credentials: CallerCredentials
) -> Response:
    # The busiest route does all its blocking work in one thread-pool hop: the session, the
    # caller's membership, the page and its serialisation (as dependencies and a sync handler
    # they took four hops, ~1 ms of a ~5 ms request). Same checks, same transaction.
    return await run_in_threadpool(_list_items, query, credentials)


def _list_items(query: InboxQuery, credentials: Credentials) -> Response:
    with session_scope() as session:
        member = authenticate(session, credentials)
        return _inbox_page(session, member, query)


def _inbox_page(session: Session, member: Member, query: InboxQuery) -> Response:
    page = inbox.inbox_page(
        session,
        organisation_id=member.organisation_id,
        filters=query.filters(),
        limit=query.limit,
        sort=query.sort,
        after=inbox.decode_after(query.cursor, query.sort),
        location_ids=member.location_ids,
    )
    last = page.rows[-1] if page.rows else None
    body = ItemPage(
        items=[
            ItemOut.build(row, latest_reply=_ref(row.latest_reply_id, row.latest_reply_status))
            for row in page.rows
        ],
        next_cursor=(inbox.encode_after(last, query.sort) if page.has_more and last else None),
    )
    # Serialised here, in the worker thread: a returned model would be checked again and
    # serialised by FastAPI in another thread-pool hop.
    return Response(body.model_dump_json(), media_type="application/json")


@router.get("/facets", summary="Counts of the filter's results by status, source, kind, rating")
def facets(
    query: Annotated[InboxFilterIn, Query()], member: CurrentMember, session: SessionDep
) -> FacetsOut:
    counts = count_facets(
        session,
        organisation_id=member.organisation_id,
        filters=query.filters(),
        location_ids=member.location_ids,
    )
    return FacetsOut(**vars(counts))


class ExportQuery(InboxFilterIn):
    sort: Sort = Sort.NEWEST


@router.get(
    "/export.csv",
    summary="Every item a filter matches, as CSV, streamed",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_csv(query: Annotated[ExportQuery, Query()], member: CurrentMember) -> StreamingResponse:
    return StreamingResponse(
        export.rows(
            organisation_id=member.organisation_id,
            filters=query.filters(),
            sort=query.sort,
            location_ids=member.location_ids,
        ),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="inbox.csv"'},
    )


@router.post("/bulk", summary="Change every item a filter matches (manager)")
def bulk(body: BulkIn, member: ManagerMember, session: SessionDep, request: Request) -> BulkOut:
    changes = body.changes
    updated = workflow.bulk_update(
        session,
        organisation_id=member.organisation_id,
        filters=body.filter.filters(),
        changes=workflow.Changes(
            status=changes.status,
            assignee_user_id=changes.assignee_user_id,
            unassign=changes.unassign,
            add_tags=changes.add_tags,
            remove_tags=changes.remove_tags,
        ),
        location_ids=member.location_ids,
    )
    audit.record_by(
        session,
        request=request,
        member=member,
        action="items.bulk_updated",
        details={"updated": updated, "changes": changes.model_dump(exclude_defaults=True)},
    )
    return BulkOut(updated=updated)


@router.get("/{item_id}", summary="One item with all our replies to it", responses=_NOT_FOUND)
def get_item(item_id: Id, member: CurrentMember, session: SessionDep) -> ItemDetail:
    item = inbox.get_item(
        session,
        organisation_id=member.organisation_id,
        item_id=item_id,
        location_ids=member.location_ids,
    )
    return _detail(session, item)


@router.patch(
    "/{item_id}",
    summary="Set an item's status, assignee, tags or language (responder)",
    responses=_NOT_FOUND,
)
def update_item(
    item_id: Id, body: ItemPatch, member: ResponderMember, session: SessionDep, request: Request
) -> ItemDetail:
    given = body.model_fields_set
    item = workflow.update_item(
        session,
        organisation_id=member.organisation_id,
        item_id=item_id,
        changes=workflow.Changes(
            status=body.status,
            assignee_user_id=body.assignee_user_id,
            unassign="assignee_user_id" in given and body.assignee_user_id is None,
            tags=body.tags,
            language=body.language,
        ),
        location_ids=member.location_ids,
    )
    audit.record_by(
        session,
        request=request,
        member=member,
        action="item.updated",
        target_type="item",
        target_id=item.id,
        details={"fields": sorted(given)},
    )
    return _detail(session, item)


@router.get("/{item_id}/notes", summary="The item's internal notes", responses=_NOT_FOUND)
def list_notes(item_id: Id, member: CurrentMember, session: SessionDep) -> NoteList:
    rows = workflow.notes(
        session,
        organisation_id=member.organisation_id,
        item_id=item_id,
        location_ids=member.location_ids,
    )
    return NoteList(notes=[NoteOut.model_validate(row) for row in rows])


@router.post(
    "/{item_id}/notes",
    status_code=status.HTTP_201_CREATED,
    summary="Add an internal note (responder)",
    responses=_NOT_FOUND,
)
def add_note(
    item_id: Id, body: NoteIn, member: ResponderMember, session: SessionDep, request: Request
) -> NoteOut:
    note = workflow.add_note(
        session,
        organisation_id=member.organisation_id,
        item_id=item_id,
        user_id=member.user_id,
        body=body.body,
        location_ids=member.location_ids,
    )
    audit.record_by(
        session,
        request=request,
        member=member,
        action="note.created",
        target_type="note",
        target_id=note.id,
        details={"item_id": item_id},
    )
    return NoteOut.model_validate(note)


@router.delete(
    "/{item_id}/notes/{note_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a note (its author, or a manager)",
    responses={404: {"model": ErrorResponse, "description": "No such item or note here"}},
)
def delete_note(
    item_id: Id, note_id: Id, member: ResponderMember, session: SessionDep, request: Request
) -> Response:
    workflow.delete_note(
        session,
        organisation_id=member.organisation_id,
        item_id=item_id,
        note_id=note_id,
        user_id=member.user_id,
        role=member.role,
        location_ids=member.location_ids,
    )
    audit.record_by(
        session,
        request=request,
        member=member,
        action="note.deleted",
        target_type="note",
        target_id=note_id,
        details={"item_id": item_id},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


_IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="Retry with the same key to get the same reply, never a second one.",
    ),
]
_REPLY_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": ReplyEnvelope, "description": "Replay of an earlier Idempotency-Key"},
    **_NOT_FOUND,
    409: {"model": ErrorResponse, "description": "Deleted, not repliable, no reply, or key reused"},
}


@router.post(
    "/{item_id}/reply",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Reply to an item (responder); sent in the background",
    description="With approval required, a responder's reply waits as `awaiting_approval`.",
    responses=_REPLY_RESPONSES,
)
def reply(
    item_id: Id,
    body: ReplyIn,
    member: ResponderMember,
    session: SessionDep,
    request: Request,
    response: Response,
    idempotency_key: _IdempotencyKey = None,
) -> ReplyEnvelope:
    return _outbox(
        session,
        request,
        response,
        member,
        item_id,
        body.text,
        idempotency_key,
        ReplyAction.POST,
        confirm_personal_data=body.confirm_personal_data,
    )


@router.put(
    "/{item_id}/reply",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Edit the reply posted at the provider (responder); sent in the background",
    responses=_REPLY_RESPONSES,
)
def edit_reply(
    item_id: Id,
    body: ReplyIn,
    member: ResponderMember,
    session: SessionDep,
    request: Request,
    response: Response,
    idempotency_key: _IdempotencyKey = None,
) -> ReplyEnvelope:
    return _outbox(
        session,
        request,
        response,
        member,
        item_id,
        body.text,
        idempotency_key,
        ReplyAction.UPDATE,
        confirm_personal_data=body.confirm_personal_data,
    )


@router.delete(
    "/{item_id}/reply",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Delete the reply posted at the provider (responder); done in the background",
    responses=_REPLY_RESPONSES,
)
def delete_reply(
    item_id: Id,
    member: ResponderMember,
    session: SessionDep,
    request: Request,
    response: Response,
    idempotency_key: _IdempotencyKey = None,
) -> ReplyEnvelope:
    return _outbox(
        session, request, response, member, item_id, "", idempotency_key, ReplyAction.DELETE
    )


_AUDIT_ACTIONS = {
    ReplyAction.POST: "reply.created",
    ReplyAction.UPDATE: "reply.edit_requested",
    ReplyAction.DELETE: "reply.delete_requested",
}


def _outbox(
    session: SessionDep,
    request: Request,
    response: Response,
    member: Member,
    item_id: int,
    text: str,
    idempotency_key: str | None,
    action: ReplyAction,
    *,
    confirm_personal_data: bool = False,
) -> ReplyEnvelope:
    outbox_row, created = replies.create_reply(
        session,
        organisation_id=member.organisation_id,
        user_id=member.user_id,
        role=member.role,
        item_id=item_id,
        text=text,
        idempotency_key=idempotency_key or uuid.uuid4().hex,
        action=action,
        confirm_personal_data=confirm_personal_data,
        location_ids=member.location_ids,
    )
    if created:
        audit.record_by(
            session,
            request=request,
            member=member,
            action=_AUDIT_ACTIONS[action],
            target_type="reply",
            target_id=outbox_row.id,
            details={"item_id": item_id, "status": outbox_row.status},
        )
    else:
        response.status_code = status.HTTP_200_OK
    return ReplyEnvelope(reply=ReplyOut.model_validate(outbox_row))


def _detail(session: SessionDep, item: inbox.Item) -> ItemDetail:
    outbox = inbox.item_replies(session, organisation_id=item.organisation_id, item_id=item.id)
    latest = _ref(outbox[0].id, outbox[0].status) if outbox else None
    limit = replies.REPLY_LIMITS.get((item.source, item.kind))
    return ItemDetail.build(
        item,
        latest_reply=latest,
        replies=[ReplyOut.model_validate(reply) for reply in outbox],
        reply_limit=ReplyLimit(size=limit.size, unit=limit.unit) if limit else None,
    )


def _ref(reply_id: int | None, reply_status: str | None) -> ReplyRef | None:
    return None if reply_id is None else ReplyRef(id=reply_id, status=reply_status)
