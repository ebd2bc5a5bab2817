"""Google reviews (My Business v4): listing newest-updated first, and the owner's reply."""

from __future__ import annotations

import re
from typing import Any

from connectors import errors
from connectors.base import Stream
from connectors.capability import Answering, Push, ReplyLimit
from connectors.google.review_replies import GoogleReviewReplies, policy_violation, reply_state
from connectors.paging import PageTokenPaginator
from connectors.records import ItemRecord, MalformedRecord, parse_timestamp, storable

STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5, "STAR_RATING_UNSPECIFIED": None}

_TRANSLATED = re.compile(
    r"^\(Translated by Google\)\s*(?P<translation>.*?)\s*\(Original\)\s*(?P<original>.*)$", re.S
)
_ORIGINAL_FIRST = re.compile(
    r"^\(Original\)\s*(?P<original>.*?)\s*\(Translated by Google\)\s*(?P<translation>.*)$", re.S
)


# One client also reads `thumbnailLabel` (§G.1): kept as text, the others as URLs.
_MEDIA_KEYS = {
    "thumbnailUrl": "thumbnail_url",
    "videoUrl": "video_url",
    "thumbnailLabel": "thumbnail_label",
}


def media_items(record: dict[str, Any]) -> list[dict[str, str]] | None:
    """ReviewMediaItem objects, whose fields are unconfirmed: every one optional, others
    ignored, and nothing that is not a non-empty string kept."""
    raw = record.get("reviewMediaItems")
    if not isinstance(raw, list):
        return None
    items = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        item = {
            ours: storable(entry[theirs])
            for theirs, ours in _MEDIA_KEYS.items()
            if isinstance(entry.get(theirs), str) and entry[theirs]
        }
        if item.keys() - {"thumbnail_label"}:  # a label alone shows nothing
            items.append(item)
    return items or None


def split_translation(comment: str) -> tuple[str, str | None]:
    """Google puts both texts in one comment; keep them apart so both can be searched."""
    for pattern in (_TRANSLATED, _ORIGINAL_FIRST):
        match = pattern.match(comment)
        if match:
            return match["translation"], match["original"]
    return comment, None


class GoogleReviews(Stream):
    name = "google_reviews"
    kind = "review"
    path_template = "v4/{location}/reviews"
    query = {"pageSize": 50, "orderBy": "updateTime desc"}
    records_key = "reviews"
    paginator = PageTokenPaginator
    id_key = "reviewId"
    # Google documents 4,096 bytes for a review reply.
    answering = Answering(ReplyLimit(4096, "bytes"), GoogleReviewReplies)
    push = Push(("NEW_REVIEW", "UPDATED_REVIEW"))
    # "pages subsequent to the first page might not always return a completely consistent
    # set of results" (PROVIDERS.md §G.2): absence from a listing is not deletion.
    reconciles = True

    def parse(self, record: dict[str, Any]) -> ItemRecord:
        if not isinstance(record, dict):
            raise MalformedRecord("review is not an object")
        review_id = self.record_id(record)
        if not review_id:
            raise MalformedRecord("review has no reviewId")
        rating_name = record.get("starRating", "STAR_RATING_UNSPECIFIED")
        if rating_name not in STARS:
            raise MalformedRecord("unknown starRating")
        reviewer = record.get("reviewer") or {}
        if not isinstance(reviewer, dict):
            raise MalformedRecord("reviewer is not an object")
        anonymous = bool(reviewer.get("isAnonymous"))
        comment = record.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise MalformedRecord("comment is not a string")
        text, original = split_translation(comment) if comment else (None, None)
        reply = record.get("reviewReply") or {}
        if not isinstance(reply, dict):
            raise MalformedRecord("reviewReply is not an object")
        created = parse_timestamp(record.get("createTime"))
        return ItemRecord(
            kind="review",
            external_id=review_id,
            posted_at=created,
            provider_updated_at=parse_timestamp(record.get("updateTime", record.get("createTime"))),
            author_name=None if anonymous else reviewer.get("displayName"),
            author_photo_url=None if anonymous else reviewer.get("profilePhotoUrl"),
            author_anonymous=anonymous,
            rating=STARS[rating_name],
            text=text,
            original_text=original,
            reply_text=reply.get("comment"),
            reply_updated_at=parse_timestamp(reply["updateTime"])
            if reply.get("updateTime")
            else None,
            reply_state=reply_state(reply) if reply.get("comment") is not None else None,
            reply_policy_violation=policy_violation(reply),
            reply_url=record["reviewReplyUrl"]
            if isinstance(record.get("reviewReplyUrl"), str)
            else None,
            media=media_items(record),
        )

    def look_up(self, location: str, external_id: str) -> dict[str, Any] | None:
        try:
            return self.client.request("GET", f"v4/{location}/reviews/{external_id}")
        except errors.NotFound:
            return None
