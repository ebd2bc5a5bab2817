"""The demo's mailbox: what the embedded ``mailbox`` e-mail back-end wrote, newest first.

Only with ``PLAUDIT_EMAIL_BACKEND=mailbox`` (the embedded default), and only for admins: the
folder is the whole deployment's, which on the demo is one organisation.
"""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import AdminMember
from api.errors import ErrorResponse, not_found
from plaudit.settings import get_settings

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


def _folder() -> Path:
    settings = get_settings()
    if settings.email_backend != "mailbox":
        raise not_found("Mailbox")
    return settings.mailbox_path


@router.get("", summary="The newest 100 messages of the demo's mailbox (admin)")
def list_mailbox(member: AdminMember) -> MailboxList:
    folder = _folder()
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)[:100]
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
def read_message(name: str, member: AdminMember) -> Response:
    path = _folder() / name
    if not _NAME.fullmatch(name) or not path.is_file():
        raise not_found("Message")
    return Response(path.read_bytes(), media_type="message/rfc822")
