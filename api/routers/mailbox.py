"""The demo's mailbox (services.email.mailbox), for admins."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import AdminScope, CurrentUser
from api.errors import ErrorResponse
from api.schemas.mailbox import MailboxEntry, MailboxList
from services.email import mailbox

router = APIRouter(
    prefix="/mailbox",
    tags=["mailbox"],
    responses={404: {"model": ErrorResponse, "description": "Not the mailbox back-end, or gone"}},
)


@router.get("", summary="The newest 100 messages of the organisation and of the caller (admin)")
def list_mailbox(scope: AdminScope, user: CurrentUser) -> MailboxList:
    entries = mailbox.newest(scope=scope, email_index=user.email_index)
    return MailboxList(messages=[MailboxEntry(**vars(e)) for e in entries])


@router.get(
    "/{name}",
    summary="One message as message/rfc822 (admin)",
    response_class=Response,
    responses={404: {"model": ErrorResponse, "description": "No such message"}},
)
def read_message(name: str, scope: AdminScope, user: CurrentUser) -> Response:
    raw = mailbox.message(scope=scope, email_index=user.email_index, name=name)
    return Response(raw, media_type="message/rfc822")
