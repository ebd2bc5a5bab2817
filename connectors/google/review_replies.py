"""The owner's reply to a Google review: one per review, so the review itself says whether a
write took. ``updateReply`` is an upsert, yet even so it is not repeated blind: after a lost
answer the outbox reads the review back first."""

from __future__ import annotations

from typing import Any

from connectors.account import LocationRef, PostedReply, Replier, WriteMarker
from connectors.base import ProviderClient
from connectors.records import ReplyState, parse_timestamp, storable


def reply_state(reply: dict[str, Any]) -> str | None:
    """The moderation state of a reply (§G.1): the field's name and members are unconfirmed,
    so `reviewReplyState`, else `state`; only PENDING and REJECTED are not published."""
    if not reply:
        return None
    raw = reply.get("reviewReplyState", reply.get("state"))
    if raw == "PENDING":
        return ReplyState.PENDING
    if raw == "REJECTED":
        return ReplyState.REJECTED
    return ReplyState.PUBLISHED


def policy_violation(reply: dict[str, Any]) -> str | None:
    value = reply.get("policyViolation")
    return storable(value) if isinstance(value, str) and value else None


class GoogleReviewReplies(Replier):
    def __init__(self, client: ProviderClient) -> None:
        self.client = client

    @staticmethod
    def _name(location: LocationRef, review_id: str) -> str:
        return f"v4/{location.external_id}/reviews/{review_id}"

    def _reply(self, location: LocationRef, review_id: str) -> dict[str, Any]:
        review = self.client.request("GET", self._name(location, review_id))
        return review.get("reviewReply") or {}

    def find(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply | None:
        reply = self._reply(location, item_external_id)
        if reply.get("comment") != text:
            return None
        return _posted(reply, text)

    def gone(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> bool:
        return not self._reply(location, item_external_id)

    # A 429 on a reply write is the location's edits limit (§G.3): raised at once, for the
    # outbox to back that location off, instead of slept on in the worker.
    def post(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply:
        answer = self.client.request(
            "PUT",
            f"{self._name(location, item_external_id)}/reply",
            json={"comment": text},
            wait_out_rate_limits=False,
        )
        # A 200 is not "published": Google may still moderate it (PROVIDERS.md §G.1).
        return _posted(answer, text)

    def delete(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> None:
        self.client.request(
            "DELETE", f"{self._name(location, item_external_id)}/reply", wait_out_rate_limits=False
        )


def _posted(reply: dict[str, Any], text: str) -> PostedReply:
    updated = reply.get("updateTime")
    return PostedReply(
        reply.get("comment", text),
        parse_timestamp(updated) if updated else None,
        state=reply_state(reply),
        policy_violation=policy_violation(reply),
    )
