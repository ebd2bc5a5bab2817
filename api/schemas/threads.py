"""The e-mail thread under a first-party item."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from models import ThreadDirection


class ThreadMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    direction: ThreadDirection
    body: str
    reply_id: int | None
    created_at: datetime


class ThreadOut(BaseModel):
    messages: list[ThreadMessageOut]
