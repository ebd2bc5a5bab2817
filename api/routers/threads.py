"""The e-mail thread under a first-party item: our replies and the reviewer's answers."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from api.deps import CurrentScope, SessionDep
from api.errors import ErrorResponse
from api.schemas.common import Id
from api.services import threads
from models import ThreadDirection

router = APIRouter(prefix="/items", tags=["items"])


class ThreadMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    direction: ThreadDirection
    body: str
    reply_id: int | None
    created_at: datetime


class ThreadOut(BaseModel):
    messages: list[ThreadMessageOut]


@router.get(
    "/{item_id}/thread",
    summary="The e-mail conversation under a first-party item, oldest first",
    responses={404: {"model": ErrorResponse, "description": "No such item here"}},
)
def get_thread(item_id: Id, scope: CurrentScope, session: SessionDep) -> ThreadOut:
    found = threads.thread(
        session,
        scope=scope,
        item_id=item_id,
    )
    return ThreadOut(messages=[ThreadMessageOut.model_validate(m) for m in found])
