"""What connectors hand to workers: provider data normalised for the items table."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime


class MalformedRecord(ValueError):
    """One record of a page cannot be understood; it is skipped, the page is kept."""


# PostgreSQL's text cannot hold NUL, and a lone surrogate is not UTF-8: either would fail the
# whole page's upsert. A provider can send both (JSON escapes allow them).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: str) -> str:
    """The text with NUL dropped and lone surrogates shown as U+FFFD."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def _make_storable(record: object) -> None:
    for name in record.__slots__:  # type: ignore[attr-defined]
        value = getattr(record, name)
        if isinstance(value, str) and _UNSTORABLE.search(value):
            object.__setattr__(record, name, storable(value))


@dataclass(slots=True)
class ItemRecord:
    kind: str
    external_id: str
    posted_at: datetime
    provider_updated_at: datetime | None = None
    author_name: str | None = None
    author_external_id: str | None = None
    author_photo_url: str | None = None
    author_anonymous: bool = False
    rating: int | None = None
    text: str | None = None
    original_text: str | None = None
    reply_text: str | None = None
    reply_updated_at: datetime | None = None
    # The provider's moderation of the reply (ReplyState's values), where it reports one.
    reply_state: str | None = None
    reply_policy_violation: str | None = None  # the provider's raw reason, never switched on
    reply_url: str | None = None  # where the provider lets the owner reply
    # The provider's id of the reply shown, where it has one (a Facebook comment of the page's).
    reply_external_id: str | None = None
    # False: the read could not tell whether there is a reply (Facebook can list a story's
    # comments as empty although the page answered, PROVIDERS.md §G.5); the stored one is kept.
    reply_known: bool = True
    # [{"thumbnail_url", "video_url", "thumbnail_label"}], keys optional
    media: list[dict[str, str]] | None = None

    def __post_init__(self) -> None:
        _make_storable(self)


class ReplyState:
    """What the provider says of a reply it has: ``published`` unless it says otherwise."""

    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"


@dataclass(slots=True)
class Page:
    items: list[ItemRecord]
    skipped: int = 0
    # Ids of every record the provider listed, parsed or not: a full pass marks the rest deleted.
    seen_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LocationRecord:
    external_id: str
    name: str
    store_code: str | None = None
    new_review_uri: str | None = None
    maps_uri: str | None = None
    # Facebook pages come with their own token, which every call about the page uses.
    access_token: str | None = None

    def __post_init__(self) -> None:
        _make_storable(self)


def parse_timestamp(value: object) -> datetime:
    """RFC 3339 as Google and Facebook write it ("Z", 0–9 fractional digits, of which Python
    keeps microseconds), which `datetime.fromisoformat` reads since Python 3.11."""
    if not isinstance(value, str):
        raise MalformedRecord(f"timestamp is not a string: {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise MalformedRecord("timestamp is not RFC 3339") from None
    if parsed.tzinfo is None:
        raise MalformedRecord("timestamp has no offset")
    return parsed.astimezone(UTC)
