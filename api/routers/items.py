"""The inbox: filtered pages, facets, bulk actions, one item, its workflow, notes and replies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import audit
from api.deps import (
    CallerCredentials,
    Credentials,
    CurrentScope,
    ManagerScope,
    ResponderScope,
    SessionDep,
    read_as_caller,
)
from api.errors import ErrorResponse
from api.schemas.common import Id
from api.schemas.items import (
    BulkIn,
    BulkOut,
    ExportQuery,
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
from models import Item, ReplyAction
from services.inbox import export, inbox, workflow
from services.inbox.facets import facets as count_facets
from services.replies import replies
from services.scope import Scope

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
    # The caller's check and the page in one statement on an autocommit connection: one round
    # trip a request (api.deps.read_as_caller).
    filters = query.filters()
    return read_as_caller(
        credentials,
        statement=lambda scope: inbox.page_statement(
            scope=scope,
            filters=filters,
            limit=query.limit,
            sort=query.sort,
            after=inbox.decode_after(query.cursor, query.sort),
        ),
        order=lambda page: inbox.page_order(query.sort, page),
        answer=lambda _scope, rows: _page_response(inbox.page_of(rows, limit=query.limit), query),
    )


def _page_response(page: inbox.InboxPage, query: InboxQuery) -> Response:
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
    query: Annotated[InboxFilterIn, Query()], scope: CurrentScope, session: SessionDep
) -> FacetsOut:
    counts = count_facets(session, scope=scope, filters=query.filters())
    return FacetsOut(**vars(counts))


@router.get(
    "/export.csv",
    summary="Every item a filter matches, as CSV, streamed",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_csv(query: Annotated[ExportQuery, Query()], scope: CurrentScope) -> StreamingResponse:
    return StreamingResponse(
        export.rows(scope=scope, filters=query.filters(), sort=query.sort),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="inbox.csv"'},
    )


@router.post("/bulk", summary="Change every item a filter matches (manager)")
def bulk(body: BulkIn, scope: ManagerScope, session: SessionDep, request: Request) -> BulkOut:
    changes = body.changes
    updated = workflow.bulk_update(
        session,
        scope=scope,
        filters=body.filter.filters(),
        changes=workflow.Changes(
            status=changes.status,
            assignee_user_id=changes.assignee_user_id,
            unassign=changes.unassign,
            add_tags=changes.add_tags,
            remove_tags=changes.remove_tags,
        ),
    )
    audit.record(
        session,
        request=request,
        scope=scope,
        action="items.bulk_updated",
        details={"updated": updated, "changes": changes.model_dump(exclude_defaults=True)},
    )
    return BulkOut(updated=updated)


@router.get("/{item_id}", summary="One item with all our replies to it", responses=_NOT_FOUND)
def get_item(item_id: Id, scope: CurrentScope, session: SessionDep) -> ItemDetail:
    item = inbox.get_item(session, scope=scope, item_id=item_id)
    return _detail(session, item)


@router.patch(
    "/{item_id}",
    summary="Set an item's status, assignee, tags or language (responder)",
    responses=_NOT_FOUND,
)
def update_item(
    item_id: Id, body: ItemPatch, scope: ResponderScope, session: SessionDep, request: Request
) -> ItemDetail:
    given = body.model_fields_set
    item = workflow.update_item(
        session,
        scope=scope,
        item_id=item_id,
        changes=workflow.Changes(
            status=body.status,
            assignee_user_id=body.assignee_user_id,
            unassign="assignee_user_id" in given and body.assignee_user_id is None,
            tags=body.tags,
            language=body.language,
        ),
    )
    audit.record(
        session,
        request=request,
        scope=scope,
        action="item.updated",
        target_type="item",
        target_id=item.id,
        details={"fields": sorted(given)},
    )
    return _detail(session, item)


@router.get("/{item_id}/notes", summary="The item's internal notes", responses=_NOT_FOUND)
def list_notes(item_id: Id, scope: CurrentScope, session: SessionDep) -> NoteList:
    rows = workflow.notes(session, scope=scope, item_id=item_id)
    return NoteList(notes=[NoteOut.model_validate(row) for row in rows])


@router.post(
    "/{item_id}/notes",
    status_code=status.HTTP_201_CREATED,
    summary="Add an internal note (responder)",
    responses=_NOT_FOUND,
)
def add_note(
    item_id: Id, body: NoteIn, scope: ResponderScope, session: SessionDep, request: Request
) -> NoteOut:
    note = workflow.add_note(session, scope=scope, item_id=item_id, body=body.body)
    audit.record(
        session,
        request=request,
        scope=scope,
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
    item_id: Id, note_id: Id, scope: ResponderScope, session: SessionDep, request: Request
) -> Response:
    workflow.delete_note(session, scope=scope, item_id=item_id, note_id=note_id)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="note.deleted",
        target_type="note",
        target_id=note_id,
        details={"item_id": item_id},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


_REPLY_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": ReplyEnvelope, "description": "Replay of an earlier Idempotency-Key"},
    **_NOT_FOUND,
    409: {
        "model": ErrorResponse,
        "description": "Deleted, not repliable, key reused, or a `mode` that does not fit: "
        "`edit` (or a delete) with no answer shown (`no_reply`), `add` where the provider keeps "
        "one reply and the item has it (`single_reply`)",
    },
    422: {
        "model": ErrorResponse,
        "description": (
            "Invalid body; `mode_required`: a Facebook item that shows an answer needs `add` "
            "or `edit`"
        ),
    },
}
_AUDIT_ACTIONS = {
    ReplyAction.POST: "reply.created",
    ReplyAction.UPDATE: "reply.edit_requested",
    ReplyAction.DELETE: "reply.delete_requested",
}


@dataclass(frozen=True)
class _ReplyRequest:
    """What every reply route takes besides the item and the text."""

    scope: Scope
    session: Session
    request: Request
    response: Response
    idempotency_key: str | None


def _reply_request(
    scope: ResponderScope,
    session: SessionDep,
    request: Request,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=100,
            pattern=r"^[\x21-\x7e]+$",
            description="Retry with the same key to get the same reply, never a second one.",
        ),
    ] = None,
) -> _ReplyRequest:
    return _ReplyRequest(scope, session, request, response, idempotency_key)


_ReplyDep = Annotated[_ReplyRequest, Depends(_reply_request)]


@router.post(
    "/{item_id}/reply",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Reply to an item (responder): add an answer or edit the one shown; sent in the "
    "background",
    description="`mode` says which (required for Facebook items, whose page may answer "
    "several times; see the item's `reply_modes`). With approval required, a responder's "
    "reply waits as `awaiting_approval`.",
    responses=_REPLY_RESPONSES,
)
def reply(item_id: Id, body: ReplyIn, call: _ReplyDep) -> ReplyEnvelope:
    return _queue_reply(call, item_id, ReplyAction.POST, body)


@router.put(
    "/{item_id}/reply",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Edit the reply posted at the provider (responder); sent in the background",
    description="The same as POST with `mode: edit`: it changes the answer the item shows.",
    responses=_REPLY_RESPONSES,
)
def edit_reply(item_id: Id, body: ReplyIn, call: _ReplyDep) -> ReplyEnvelope:
    return _queue_reply(call, item_id, ReplyAction.UPDATE, body)


@router.delete(
    "/{item_id}/reply",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Delete the reply posted at the provider (responder); done in the background",
    responses=_REPLY_RESPONSES,
)
def delete_reply(item_id: Id, call: _ReplyDep) -> ReplyEnvelope:
    return _queue_reply(call, item_id, ReplyAction.DELETE, None)


def _queue_reply(
    call: _ReplyRequest, item_id: int, action: ReplyAction, body: ReplyIn | None
) -> ReplyEnvelope:
    """The one path of the three reply routes: the outbox row, audited when new; a replayed
    Idempotency-Key answers 200 with the row it made the first time."""
    outbox_row, created = replies.create_reply(
        call.session,
        scope=call.scope,
        item_id=item_id,
        text=body.text if body else "",
        idempotency_key=call.idempotency_key or uuid.uuid4().hex,
        action=action,
        mode=body.mode if body else None,
        confirm_personal_data=body.confirm_personal_data if body else False,
    )
    if created:
        audit.record(
            call.session,
            request=call.request,
            scope=call.scope,
            action=_AUDIT_ACTIONS[ReplyAction(outbox_row.action)],
            target_type="reply",
            target_id=outbox_row.id,
            details={"item_id": item_id, "status": outbox_row.status},
        )
    else:
        call.response.status_code = status.HTTP_200_OK
    return ReplyEnvelope(reply=ReplyOut.model_validate(outbox_row))


def _detail(session: Session, item: Item) -> ItemDetail:
    outbox = inbox.item_replies(session, item=item)
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
