"""Page webhooks from Meta: the signature, and what each change means for the inbox.

The signature is an HMAC-SHA256 of the raw body with the app secret; it is checked on the bytes
as received, never on re-serialised JSON. Value shapes for ``mention`` and ``ratings`` are
representative rather than documented (PROVIDERS.md §E), so everything is read defensively and
an event that cannot be understood asks for a sync of that page instead.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectors.facebook.comments import FacebookComments
from connectors.facebook.ratings import RECOMMENDATION_STARS, FacebookRatings
from connectors.facebook.records import graph_time
from connectors.facebook.tagged import FacebookTagged
from connectors.records import ItemRecord, MalformedRecord

SIGNATURE_HEADER = "X-Hub-Signature-256"
_ADDED = {"add"}
_EDITED = {"edit", "edited", "update"}
_REMOVED = {"remove", "delete", "hide"}


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    if not secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(body, secret), header.strip().lower())


class Change(enum.Enum):
    INSERT = "insert"  # a new item, complete in the event
    EDIT = "edit"  # new text for an item we may have
    DELETE = "delete"
    SYNC = "sync"  # the event says something changed but not enough to write it


@dataclass(frozen=True)
class PageChange:
    page_id: str
    change: Change
    capability: str
    record: ItemRecord | None = None
    external_id: str | None = None


def changes(payload: Any) -> Iterator[PageChange]:
    """Every change of every entry of one delivery (Meta batches them)."""
    if not isinstance(payload, dict) or payload.get("object") != "page":
        return
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict) or not entry.get("id"):
            continue
        page_id = str(entry["id"])
        for change in entry.get("changes") or []:
            if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                continue
            found = _read(page_id, str(change.get("field")), change["value"])
            if found is not None:
                yield found


def _read(page_id: str, field: str, value: dict[str, Any]) -> PageChange | None:
    verb = str(value.get("verb") or "")
    if field == "feed" and value.get("item") == "comment":
        return _comment(page_id, verb, value)
    if field == "ratings":
        return _rating(page_id, verb, value)
    if field == "mention":
        return _mention(page_id, verb, value)
    return None


def _comment(page_id: str, verb: str, value: dict[str, Any]) -> PageChange:
    capability = FacebookComments.name
    comment_id = value.get("comment_id")
    author = value.get("from") if isinstance(value.get("from"), dict) else {}
    if not isinstance(comment_id, str) or str(author.get("id")) == page_id:
        # The page's own comment is a reply: the thread is read back to attach it.
        return PageChange(page_id, Change.SYNC, capability)
    if verb in _REMOVED:
        return PageChange(page_id, Change.DELETE, capability, external_id=comment_id)
    try:
        record = ItemRecord(
            kind="comment",
            external_id=comment_id,
            posted_at=graph_time(value.get("created_time")),
            author_name=author.get("name") if isinstance(author.get("name"), str) else None,
            author_external_id=str(author["id"]) if author.get("id") else None,
            text=value.get("message") if isinstance(value.get("message"), str) else None,
        )
    except MalformedRecord:
        return PageChange(page_id, Change.SYNC, capability)
    record.provider_updated_at = record.posted_at
    if verb in _EDITED:
        return PageChange(page_id, Change.EDIT, capability, record, comment_id)
    if verb in _ADDED:
        return PageChange(page_id, Change.INSERT, capability, record, comment_id)
    return PageChange(page_id, Change.SYNC, capability)


def _rating(page_id: str, verb: str, value: dict[str, Any]) -> PageChange:
    capability = FacebookRatings.name
    story_id = value.get("open_graph_story_id")
    if not isinstance(story_id, str) or verb not in _ADDED | _EDITED | _REMOVED:
        return PageChange(page_id, Change.SYNC, capability)
    if verb in _REMOVED:
        return PageChange(page_id, Change.DELETE, capability, external_id=story_id)
    rating = value.get("rating")
    try:
        record = ItemRecord(
            kind="recommendation",
            external_id=story_id,
            posted_at=graph_time(value.get("created_time")),
            author_name=value.get("reviewer_name")
            if isinstance(value.get("reviewer_name"), str)
            else None,
            author_external_id=str(value["reviewer_id"]) if value.get("reviewer_id") else None,
            rating=rating
            if isinstance(rating, int) and 1 <= rating <= 5
            else RECOMMENDATION_STARS.get(value.get("recommendation_type")),
            text=value.get("review_text") if isinstance(value.get("review_text"), str) else None,
        )
    except MalformedRecord:
        return PageChange(page_id, Change.SYNC, capability)
    record.provider_updated_at = record.posted_at
    change = Change.INSERT if verb in _ADDED else Change.EDIT
    return PageChange(page_id, change, capability, record, story_id)


def _mention(page_id: str, verb: str, value: dict[str, Any]) -> PageChange:
    capability = FacebookTagged.name
    mention_id = value.get("comment_id") or value.get("post_id")
    if not isinstance(mention_id, str):
        return PageChange(page_id, Change.SYNC, capability)
    if verb in _REMOVED:
        return PageChange(page_id, Change.DELETE, capability, external_id=mention_id)
    try:
        record = ItemRecord(
            kind="mention",
            external_id=mention_id,
            posted_at=graph_time(value.get("created_time")),
            # Mention comment events may lack the sender (PROVIDERS.md §E).
            author_name=value.get("sender_name")
            if isinstance(value.get("sender_name"), str)
            else None,
            author_external_id=str(value["sender_id"]) if value.get("sender_id") else None,
            text=value.get("message") if isinstance(value.get("message"), str) else None,
        )
    except MalformedRecord:
        return PageChange(page_id, Change.SYNC, capability)
    record.provider_updated_at = record.posted_at
    change = Change.INSERT if verb in _ADDED else Change.EDIT
    return PageChange(page_id, change, capability, record, mention_id)
