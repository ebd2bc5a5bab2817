"""Comments on the page's posts, with their reply threads (``/{page}/feed``, then
``/{post}/comments``).

A post's ``updated_time`` moves when someone comments on it, so an incremental pass reads the
feed (one request per 100 posts) and only asks for the comments of posts updated since the
cursor. The page's own answer in a thread becomes the comment's reply; other people's answers
are comments of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from connectors.base import Stream, iso_time, later_time
from connectors.capability import Push
from connectors.facebook.push import Change, PageChange, text, written
from connectors.facebook.records import graph_time, optional_text, person, required_id
from connectors.facebook.replies import PAGE_ANSWERS
from connectors.paging import CursorPaginator
from connectors.records import ItemRecord, MalformedRecord, Page

log = logging.getLogger(__name__)

POST_FIELDS = "id,created_time,updated_time"
COMMENT_FIELDS = (
    "id,message,created_time,from{id,name},comment_count,"
    "comments.limit(100){id,message,created_time,from{id,name}}"
)


class FacebookComments(Stream):
    name = "facebook_comments"
    kind = "comment"
    path_template = "{location}/feed"
    query = {"fields": POST_FIELDS, "limit": 100}
    paginator = CursorPaginator
    answering = PAGE_ANSWERS
    push = Push(("feed",), lambda page_id, verb, value: pushed(page_id, verb, value))
    page_id = ""  # set by read(): the page's own comments are its replies

    def comment_params(self) -> dict[str, Any]:
        return {
            "fields": COMMENT_FIELDS,
            "filter": "toplevel",
            "order": "reverse_chronological",
            "limit": 100,
        }

    def parse(self, record: dict[str, Any]) -> ItemRecord:
        return self.thread(record)[0]

    def thread(self, record: dict[str, Any]) -> list[ItemRecord]:
        """A top-level comment with the page's latest answer as its reply, then the answers
        other people gave in its thread."""
        comment = self._comment(record)
        others = []
        replies = record.get("comments") or {}
        for reply in replies.get("data") or [] if isinstance(replies, dict) else []:
            answer = self._comment(reply)
            if answer.author_external_id == self.page_id:
                if comment.reply_updated_at is None or answer.posted_at >= comment.reply_updated_at:
                    comment.reply_text, comment.reply_updated_at = answer.text, answer.posted_at
                    comment.reply_external_id = answer.external_id
            else:
                others.append(answer)
        return [comment, *others]

    def _comment(self, record: Any) -> ItemRecord:
        comment_id = required_id(record)
        author_id, author_name = person(record)
        created = graph_time(record.get("created_time"))
        return ItemRecord(
            kind="comment",
            external_id=comment_id,
            posted_at=created,
            provider_updated_at=created,
            author_name=author_name,
            author_external_id=author_id,
            text=optional_text(record, "message"),
        )

    def read(
        self, location: str, cursor: datetime | None, resume: dict[str, Any] | None = None
    ) -> CommentsPass:
        self.page_id = location
        return CommentsPass(self, location, cursor, resume)


class CommentsPass:
    """The same contract as ``IncrementalPass``: pages, then a cursor once complete; and a
    ``position`` to resume from when the provider stops it (a rate limit)."""

    def __init__(
        self,
        stream: FacebookComments,
        location: str,
        cursor: datetime | None,
        resume: dict[str, Any] | None = None,
    ) -> None:
        self.stream = stream
        self.location = location
        self.cursor = cursor
        self.new_cursor: datetime | None = None
        self.complete = False
        self.skipped = 0
        self.resume = resume
        # The request to carry on from: the feed page being read, the post whose comments were
        # being read and the `after` of their next page, and the newest post time seen so far.
        self.position: dict[str, Any] | None = resume

    def pages(self) -> Iterator[Page]:
        stream = self.stream
        resume = self.resume or {}
        highest = later_time(self.cursor, resume.get("highest"))
        feed: dict[str, Any] = dict(resume.get("feed") or {})
        from_post, comments_after = resume.get("post"), dict(resume.get("comments") or {})
        feed_pages = CursorPaginator()
        while True:
            if from_post is None:
                self.position = {
                    "feed": feed,
                    "post": None,
                    "comments": {},
                    "highest": iso_time(highest),
                }
            body = stream.client.request(
                "GET", stream.path(self.location), params={**stream.params(), **feed}
            )
            posts = body.get("data") or []
            if from_post is not None:
                # Carry on at the post that was being read; gone from the page, read it all.
                ids = [post.get("id") if isinstance(post, dict) else None for post in posts]
                if from_post in ids:
                    posts = posts[ids.index(from_post) :]
                else:
                    comments_after = {}
                from_post = None
            for post in posts:
                try:
                    post_id = required_id(post)
                    updated = graph_time(post.get("updated_time") or post.get("created_time"))
                except MalformedRecord as exc:
                    log.warning("skipped a malformed post on page %s: %s", self.location, exc)
                    self.skipped += 1
                    continue
                if highest is None or updated > highest:
                    highest = updated
                if self.cursor is not None and updated <= self.cursor:
                    # No comment since the last pass. (One in the very second the last pass
                    # read is left to the webhook or the daily full pass: times are seconds.)
                    continue
                yield from self._post(post_id, comments_after, feed, highest)
                comments_after = {}
            following = feed_pages.next_params(body)
            if following is None:
                break
            feed = following
        self.complete = True
        self.new_cursor = highest

    def _post(
        self,
        post_id: str,
        after: dict[str, Any],
        feed: dict[str, Any],
        highest: datetime | None,
    ) -> Iterator[Page]:
        """One post's comment pages, from ``after`` (its first page when empty)."""
        stream, pages = self.stream, CursorPaginator()
        while True:
            self.position = {
                "feed": feed,
                "post": post_id,
                "comments": after,
                "highest": iso_time(highest),
            }
            body = stream.client.request(
                "GET", f"{post_id}/comments", params={**stream.comment_params(), **after}
            )
            yield self._page(body.get("data") or [])
            following = pages.next_params(body)
            if following is None:
                return
            after = following

    def _page(self, records: list[Any]) -> Page:
        page = Page(items=[])
        for record in records:
            try:
                thread = self.stream.thread(record)
            except MalformedRecord as exc:
                record_id = self.stream.record_id(record)
                log.warning("skipped a malformed comment %s: %s", record_id, exc)
                page.skipped += 1
                if record_id:
                    page.seen_ids.append(record_id)
                continue
            page.items.extend(thread)
            page.seen_ids.extend(item.external_id for item in thread)
        self.skipped += page.skipped
        return page


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
