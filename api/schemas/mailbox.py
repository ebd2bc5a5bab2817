"""The demo mailbox's listing."""

from __future__ import annotations

from pydantic import BaseModel


class MailboxEntry(BaseModel):
    name: str
    to: str
    subject: str
    date: str


class MailboxList(BaseModel):
    messages: list[MailboxEntry]
