"""The e-mail thread under a first-party item: our replies and the reviewer's answers."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentScope, SessionDep
from api.errors import ErrorResponse
from api.schemas.common import Id
from api.schemas.threads import ThreadMessageOut, ThreadOut
from services.inbox import threads

router = APIRouter(prefix="/items", tags=["items"])


@router.get(
    "/{item_id}/thread",
    summary="The e-mail conversation under a first-party item, oldest first",
    responses={404: {"model": ErrorResponse, "description": "No such item here"}},
)
def get_thread(item_id: Id, scope: CurrentScope, session: SessionDep) -> ThreadOut:
    found = threads.thread(session, scope=scope, item_id=item_id)
    return ThreadOut(messages=[ThreadMessageOut.model_validate(m) for m in found])
