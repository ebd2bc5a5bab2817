"""Posts the page is tagged in (``/{page}/tagged``): mentions, for the inbox.

The page answers a mention with a comment on the post; the post's newest comments come nested
in the listing, and the page's latest is the mention's reply.

A mention in a comment comes only by webhook: ``/tagged`` lists posts, and no edge lists such
comments (PROVIDERS.md §E). So a full pass looks up each mention its listing did not show
before calling it gone; the look-up reads the comment and its replies, among which is the
page's answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors import errors
from connectors.base import IncrementalPass, Stream
from connectors.facebook.records import (
    ANSWER_FIELDS,
    graph_time,
    optional_text,
    person,
    required_id,
    with_answer,
)
from connectors.paging import CursorPaginator
from connectors.records import ItemRecord

FIELDS = f"id,message,created_time,updated_time,from{{id,name}},permalink_url,{ANSWER_FIELDS}"
# What both a post and a comment have (a comment has no updated_time: asking is an error #100).
LOOK_UP_FIELDS = f"id,message,created_time,from{{id,name}},permalink_url,{ANSWER_FIELDS}"


class FacebookTagged(Stream):
    name = "facebook_tagged"
    kind = "mention"
    records_key = "data"
    paginator = CursorPaginator
    page_id = ""  # set by read(): the page's own comments on the post are its answers
    reconciles = True  # mentions in comments are in no listing

    def path(self, location: str) -> str:
        return f"{location}/tagged"

    def params(self) -> dict[str, Any]:
        return {"fields": FIELDS, "limit": 100}

    def record_id(self, record: Any) -> str | None:
        value = record.get("id") if isinstance(record, dict) else None
        return value if isinstance(value, str) and value else None

    def parse(self, record: dict[str, Any]) -> ItemRecord:
        post_id = required_id(record)
        author_id, author_name = person(record)
        created = graph_time(record.get("created_time"))
        updated = record.get("updated_time")
        item = ItemRecord(
            kind="mention",
            external_id=post_id,
            posted_at=created,
            provider_updated_at=graph_time(updated) if updated else created,
            author_name=author_name,
            author_external_id=author_id,
            text=optional_text(record, "message"),
        )
        return with_answer(item, record.get("comments"), self.page_id)

    def read(
        self, location: str, cursor: datetime | None, resume: dict[str, Any] | None = None
    ) -> IncrementalPass:
        self.page_id = location
        return super().read(location, cursor, resume)

    def look_up(self, location: str, external_id: str) -> dict[str, Any] | None:
        self.page_id = location
        try:
            return self.client.request("GET", external_id, params={"fields": LOOK_UP_FIELDS})
        except errors.NotFound:
            return None
