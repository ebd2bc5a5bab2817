"""The demo's mailbox: what the embedded ``mailbox`` e-mail back-end wrote, newest first.

Only with ``PLAUDIT_EMAIL_BACKEND=mailbox``, and only for admins. A reader sees two folders: the
messages their organisation sent, and the personal messages (password resets, invitations)
addressed to the reader's own e-mail address. Another organisation's messages, and personal
messages of anyone else, are not found.
"""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import AdminMember, CurrentUser
from api.errors import ErrorResponse, not_found
from plaudit.settings import get_settings
from services.email.backends import mailbox_box

router = APIRouter(
    prefix="/mailbox",
    tags=["mailbox"],
    responses={404: {"model": ErrorResponse, "description": "Not the mailbox back-end, or gone"}},
)
_NAME = re.compile(r"^[0-9a-f]{32}\.eml$")


class MailboxEntry(BaseModel):
    name: str
    to: str
    subject: str
    date: str


class MailboxList(BaseModel):
    messages: list[MailboxEntry]


def _folders(member: AdminMember, user: CurrentUser) -> list[Path]:
    settings = get_settings()
    if settings.email_backend != "mailbox":
        raise not_found("Mailbox")
    root = settings.mailbox_path
    organisation = mailbox_box(
        organisation_id=member.organisation_id, personal=False, to_index=user.email_index
    )
    if member.api_key_id is not None:
        return [root / organisation]  # a key is not a person: it has no personal mail
    own = mailbox_box(
        organisation_id=member.organisation_id, personal=True, to_index=user.email_index
    )
    return [root / organisation, root / own]


@router.get("", summary="The newest 100 messages of the organisation and of the caller (admin)")
def list_mailbox(member: AdminMember, user: CurrentUser) -> MailboxList:
    files = [path for folder in _folders(member, user) for path in folder.glob("*.eml")]
    files = sorted(files, key=lambda p: p.stat().st_mtime, reverse=True)[:100]
    entries = []
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        entries.append(
            MailboxEntry(
                name=path.name,
                to=str(message["To"] or ""),
                subject=str(message["Subject"] or ""),
                date=str(message["Date"] or ""),
            )
        )
    return MailboxList(messages=entries)


@router.get(
    "/{name}",
    summary="One message as message/rfc822 (admin)",
    response_class=Response,
    responses={404: {"model": ErrorResponse, "description": "No such message"}},
)
def read_message(name: str, member: AdminMember, user: CurrentUser) -> Response:
    folders = _folders(member, user)
    if _NAME.fullmatch(name):
        for folder in folders:
            path = folder / name
            if path.is_file():
                return Response(path.read_bytes(), media_type="message/rfc822")
    raise not_found("Message")
