"""The page's reply to a comment, a mention or a recommendation: a comment of its own under it.

Comments and mentions reply under themselves (``POST /{id}/comments``), recommendations under their
story (``POST /{open_graph_story-id}/comments``, community practice, PROVIDERS.md §E). Our reply
is the page's latest comment there: posting again edits it, so a repeated post is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from connectors.account import LocationRef, PostedReply, Replier
from connectors.facebook.graph import GraphClient

THREAD_FIELDS = "id,message,created_time,from{id}"


class FacebookReplies(Replier):
    def __init__(self, client_for: Callable[[LocationRef], GraphClient]) -> None:
        self.client_for = client_for

    def _ours(self, location: LocationRef, object_id: str) -> dict[str, Any] | None:
        body = self.client_for(location).request(
            "GET",
            f"{object_id}/comments",
            params={"fields": THREAD_FIELDS, "order": "reverse_chronological", "limit": 100},
        )
        for comment in body.get("data") or []:
            author = comment.get("from") if isinstance(comment, dict) else None
            if isinstance(author, dict) and str(author.get("id")) == location.external_id:
                return comment
        return None

    def current(self, location: LocationRef, item_external_id: str) -> str | None:
        ours = self._ours(location, item_external_id)
        return ours.get("message") if ours else None

    def post(self, location: LocationRef, item_external_id: str, text: str) -> PostedReply:
        client = self.client_for(location)
        ours = self._ours(location, item_external_id)
        if ours is None:
            client.request("POST", f"{item_external_id}/comments", json={"message": text})
        elif ours.get("message") != text:
            client.request("POST", str(ours["id"]), json={"message": text})
        return PostedReply(text, datetime.now(UTC))

    def delete(self, location: LocationRef, item_external_id: str) -> None:
        ours = self._ours(location, item_external_id)
        if ours is not None:
            self.client_for(location).request("DELETE", str(ours["id"]))
