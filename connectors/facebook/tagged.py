"""Posts the page is tagged in (``/{page}/tagged``): mentions, for the inbox.

The page answers a mention with a comment on the post; the post's newest comments come nested
in the listing, and the page's latest is the mention's reply.

A mention in a comment comes only by webhook: ``/tagged`` lists posts, and no edge lists such
comments (PROVIDERS.md §E). So a full pass looks up each mention its listing did not show
before calling it gone; the look-up reads the comment and its replies, among which is the
page's answer.
"""

from __future__ import annotations

from typing import Any

from connectors import errors
from connectors.base import Stream
from connectors.capability import Push
from connectors.facebook.push import Change, PageChange, text, written
from connectors.facebook.records import (
    ANSWER_FIELDS,
    graph_time,
    optional_text,
    person,
    required_id,
    with_answer,
)
from connectors.facebook.replies import PAGE_ANSWERS
from connectors.paging import CursorPaginator
from connectors.records import ItemRecord

FIELDS = f"id,message,created_time,updated_time,from{{id,name}},permalink_url,{ANSWER_FIELDS}"
# What both a post and a comment have (a comment has no updated_time: asking is an error #100).
LOOK_UP_FIELDS = f"id,message,created_time,from{{id,name}},permalink_url,{ANSWER_FIELDS}"


class FacebookTagged(Stream):
    name = "facebook_tagged"
    kind = "mention"
    path_template = "{location}/tagged"
    query = {"fields": FIELDS, "limit": 100}
    paginator = CursorPaginator
    answering = PAGE_ANSWERS  # a comment under the post (or the comment) that mentions it
    push = Push(("mention",), lambda page_id, verb, value: pushed(page_id, verb, value))
    reconciles = True  # mentions in comments are in no listing

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
        return with_answer(item, record.get("comments"), self.location)

    def look_up(self, location: str, external_id: str) -> dict[str, Any] | None:
        self.location = location
        try:
            return self.client.request("GET", external_id, params={"fields": LOOK_UP_FIELDS})
        except errors.NotFound:
            return None

def pushed(page_id: str, verb: str, value: dict[str, Any]) -> PageChange:
    mention_id = value.get("comment_id") or value.get("post_id")
    if not isinstance(mention_id, str):
        return PageChange(page_id, Change.SYNC, FacebookTagged.name)

    def record() -> ItemRecord:
        return ItemRecord(
            kind="mention",
            external_id=mention_id,
            posted_at=graph_time(value.get("created_time")),
            # Mention comment events may lack the sender (PROVIDERS.md §E).
            author_name=text(value, "sender_name"),
            author_external_id=str(value["sender_id"]) if value.get("sender_id") else None,
            text=text(value, "message"),
        )

    return written(page_id, FacebookTagged.name, verb, mention_id, record)
