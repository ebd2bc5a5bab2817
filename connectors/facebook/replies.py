"""The page's answer to a comment, a mention or a recommendation: a comment of its own under it.

Comments and mentions are answered under themselves (``POST /{id}/comments``), recommendations
under their story (``POST /{open_graph_story-id}/comments``, community practice, PROVIDERS.md §E).
The page may have several answers there; the caller says which write it means. ``post`` adds a
comment, always; ``edit`` changes the one the outbox names (the item's answer, or our last
reply), else the page's latest, with ``POST /{comment-id}`` and ``message`` (Graph's comment
update; PROVIDERS.md does not list it).

Creating a comment is not idempotent at Facebook: a repeated ``POST /{id}/comments`` publishes a
duplicate. After a lost answer the outbox asks :meth:`FacebookReplies.find`, which looks for the
page's own comment with our text, created since the unconfirmed attempt began. Graph can also
answer the POST with ``(#100) Unsupported request - method type: post`` although it created the
comment (§G.5): that answer is never retried; the comments are read back for its id, and since
that read can come back empty too, the reply counts as posted whatever it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors import errors
from connectors.account import LocationRef, PostedReply, Replier, WriteMarker
from connectors.capability import Answering, ReplyLimit
from connectors.facebook.graph import GraphClient, edge
from connectors.records import MalformedRecord, parse_timestamp

THREAD_FIELDS = "id,message,created_time,from{id}"
# Facebook's clock is not ours, and its times are whole seconds.
CLOCK_SKEW = timedelta(minutes=2)
# Our reply is among the newest comments; a read-back stops after this many pages of 100.
MAX_PAGES = 5
# How Graph words the refusal that may have created the comment all the same (§G.5).
CREATED_ANYWAY = "unsupported request - method type: post"
_LONG_AGO = datetime.min.replace(tzinfo=UTC)


def _created(comment: dict[str, Any]) -> datetime:
    try:
        return parse_timestamp(comment.get("created_time"))
    except MalformedRecord:
        return _LONG_AGO


class FacebookReplies(Replier):
    def __init__(self, client_for: Callable[[LocationRef], GraphClient]) -> None:
        self.client_for = client_for

    def _page_comments(self, location: LocationRef, object_id: str) -> list[dict[str, Any]]:
        """The page's own comments under the object, newest first."""
        params = {"fields": THREAD_FIELDS, "order": "reverse_chronological", "limit": 100}
        found: list[dict[str, Any]] = []
        pages = edge(self.client_for(location), f"{object_id}/comments", params)
        for number, body in enumerate(pages, start=1):
            for comment in body.get("data") or []:
                author = comment.get("from") if isinstance(comment, dict) else None
                if (
                    isinstance(author, dict)
                    and str(author.get("id")) == location.external_id
                    and comment.get("id")
                ):
                    found.append(comment)
            if number >= MAX_PAGES:
                break
        return sorted(found, key=_created, reverse=True)

    @staticmethod
    def _target(comments: list[dict[str, Any]], marker: WriteMarker) -> dict[str, Any] | None:
        """The comment a write changes: the recorded one while it exists, else the latest."""
        if marker.reply_id is not None:
            return next((c for c in comments if str(c["id"]) == marker.reply_id), None)
        return comments[0] if comments else None

    def find(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply | None:
        since = marker.started_at - CLOCK_SKEW if marker.started_at else None
        for comment in self._page_comments(location, item_external_id):
            if comment.get("message") != text:
                continue
            recorded = str(comment["id"]) == marker.reply_id
            if recorded or since is None or _created(comment) >= since:
                marker.reply_id = str(comment["id"])
                return PostedReply(text, _created(comment))
        return None

    def gone(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> bool:
        return self._target(self._page_comments(location, item_external_id), marker) is None

    def post(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply:
        client = self.client_for(location)
        try:
            answer = client.request("POST", f"{item_external_id}/comments", json={"message": text})
        except errors.Rejected as exc:
            if CREATED_ANYWAY not in str(exc).lower():
                raise
            # Facebook likely created it: posting again would publish a duplicate. Its id, if
            # the read shows it; posted in any case (the read is no proof either way).
            found = self.find(location, item_external_id, text, marker)
            return found or PostedReply(text, datetime.now(UTC))
        marker.reply_id = str(answer["id"]) if answer.get("id") else None
        return PostedReply(text, datetime.now(UTC))

    def edit(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply:
        if marker.reply_id is None:
            target = self._target(self._page_comments(location, item_external_id), marker)
            if target is None:
                raise errors.NotFound("the page has no answer there to edit")
            marker.reply_id = str(target["id"])  # recorded before the edit, in case it is lost
            if target.get("message") == text:
                return PostedReply(text, _created(target))
        # Setting the same text again changes nothing: a repeated edit is harmless.
        self.client_for(location).request("POST", marker.reply_id, json={"message": text})
        return PostedReply(text, datetime.now(UTC))

    def delete(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> None:
        target = self._target(self._page_comments(location, item_external_id), marker)
        if target is not None:
            marker.reply_id = str(target["id"])
            self.client_for(location).request("DELETE", marker.reply_id)


# The page answers a comment, a mention or a recommendation the same way: a comment of its own
# (limited to 8,000 characters), any number of them.
PAGE_ANSWERS = Answering(ReplyLimit(8000, "characters"), FacebookReplies, several=True)
