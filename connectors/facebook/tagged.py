"""Posts the page is tagged in (``/{page}/tagged``): mentions, for the inbox.

The page answers a mention with a comment on the post; the post's newest comments come nested
in the listing, and the page's latest is the mention's reply.
"""

from __future__ import annotations

from typing import Any

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


class FacebookTagged(Stream):
    name = "facebook_tagged"
    kind = "mention"
    path_template = "{location}/tagged"
    query = {"fields": FIELDS, "limit": 100}
    paginator = CursorPaginator
    answering = PAGE_ANSWERS  # a comment under the post (or the comment) that mentions it
    push = Push(("mention",), lambda page_id, verb, value: pushed(page_id, verb, value))

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
