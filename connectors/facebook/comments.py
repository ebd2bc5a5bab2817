"""Comments on the page's posts, with their reply threads (``/{page}/feed``, then
``/{post}/comments``): a child pass (``connectors.passes.ChildPass``).

A post's ``updated_time`` moves when someone comments on it, so a pass only asks for the
comments of posts updated since the cursor, and stops reading the feed at the first page that
reaches the cursor. The page's own answer in a thread becomes the comment's reply; other
people's answers are comments of their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import ChildStream, Listing
from connectors.capability import Push
from connectors.facebook.push import Change, PageChange, text, written
from connectors.facebook.records import comment, graph_time
from connectors.facebook.replies import PAGE_ANSWERS
from connectors.paging import CursorPaginator
from connectors.records import ItemRecord

COMMENT_FIELDS = (
    "id,message,created_time,from{id,name},comment_count,"
    "comments.limit(100){id,message,created_time,from{id,name}}"
)


class FacebookPosts(Listing):
    path_template = "{location}/feed"
    query = {"fields": "id,created_time,updated_time", "limit": 100}
    paginator = CursorPaginator


class FacebookComments(ChildStream):
    name = "facebook_comments"
    kind = "comment"
    parent = FacebookPosts
    child_path_template = "{parent}/comments"
    child_query = {
        "fields": COMMENT_FIELDS,
        "filter": "toplevel",
        "order": "reverse_chronological",
        "limit": 100,
    }
    paginator = CursorPaginator
    answering = PAGE_ANSWERS
    push = Push(("feed",), lambda page_id, verb, value: pushed(page_id, verb, value))

    def parent_updated(self, record: dict[str, Any]) -> datetime:
        return graph_time(record.get("updated_time") or record.get("created_time"))

    def parse(self, record: dict[str, Any]) -> ItemRecord:
        return self.parse_all(record)[0]

    def parse_all(self, record: dict[str, Any]) -> list[ItemRecord]:
        """A top-level comment with the page's latest answer as its reply, then the answers
        other people gave in its thread."""
        top = comment(record)
        others = []
        replies = record.get("comments") or {}
        for reply in replies.get("data") or [] if isinstance(replies, dict) else []:
            answer = comment(reply)
            if answer.author_external_id == self.location:
                if top.reply_updated_at is None or answer.posted_at >= top.reply_updated_at:
                    top.reply_text, top.reply_updated_at = answer.text, answer.posted_at
                    top.reply_external_id = answer.external_id
            else:
                others.append(answer)
        return [top, *others]


def pushed(page_id: str, verb: str, value: dict[str, Any]) -> PageChange | None:
    if value.get("item") != "comment":
        return None
    comment_id = value.get("comment_id")
    author = value.get("from") if isinstance(value.get("from"), dict) else {}
    if not isinstance(comment_id, str) or str(author.get("id")) == page_id:
        # The page's own comment is a reply: the thread is read back to attach it.
        return PageChange(page_id, Change.SYNC, FacebookComments.name)

    def record() -> ItemRecord:
        return ItemRecord(
            kind="comment",
            external_id=comment_id,
            posted_at=graph_time(value.get("created_time")),
            author_name=text(author, "name"),
            author_external_id=str(author["id"]) if author.get("id") else None,
            text=text(value, "message"),
        )

    return written(page_id, FacebookComments.name, verb, comment_id, record)
