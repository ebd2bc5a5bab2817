"""The demo's mailbox: what the embedded ``mailbox`` e-mail back-end wrote, newest first.

Only with ``PLAUDIT_EMAIL_BACKEND=mailbox``. A reader sees two folders: the messages their
organisation sent, and the personal messages (password resets, invitations) addressed to the
reader's own e-mail address. Another organisation's messages, and personal messages of anyone
else, are not found.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path

from core.errors import NotFound
from core.settings import get_settings
from services.email.backends import mailbox_box
from services.scope import Scope

NEWEST = 100
_NAME = re.compile(r"^[0-9a-f]{32}\.eml$")


@dataclass(frozen=True)
class MailboxEntry:
    name: str
    to: str
    subject: str
    date: str


def folders(*, scope: Scope, email_index: str) -> list[Path]:
    """The folders the caller may read (``email_index``: their own address's)."""
    settings = get_settings()
    if settings.email_backend != "mailbox":
        raise NotFound("Mailbox")
    root = settings.mailbox_path
    organisation = mailbox_box(
        organisation_id=scope.organisation_id, personal=False, to_index=email_index
    )
    if scope.api_key_id is not None:
        return [root / organisation]  # a key is not a person: it has no personal mail
    own = mailbox_box(organisation_id=scope.organisation_id, personal=True, to_index=email_index)
    return [root / organisation, root / own]


def newest(*, scope: Scope, email_index: str) -> list[MailboxEntry]:
    found = [
        p for folder in folders(scope=scope, email_index=email_index) for p in folder.glob("*.eml")
    ]
    entries = []
    for path in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)[:NEWEST]:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        entries.append(
            MailboxEntry(
                name=path.name,
                to=str(message["To"] or ""),
                subject=str(message["Subject"] or ""),
                date=str(message["Date"] or ""),
            )
        )
    return entries


def message(*, scope: Scope, email_index: str, name: str) -> bytes:
    """One message as it was written (RFC 822)."""
    searched = folders(scope=scope, email_index=email_index)
    if _NAME.fullmatch(name):
        for folder in searched:
            path = folder / name
            if path.is_file():
                return path.read_bytes()
    raise NotFound("Message")
