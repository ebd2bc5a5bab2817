"""The inbox: items from every source, and their filters."""

from __future__ import annotations

import enum
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from sqlalchemy import Row

from api.schemas.common import Id, Input, SafeText
from api.schemas.replies import ModerationState, ReplyOut, ReplyState
from connectors.providers import KINDS
from models import Item, ItemStatus, ReplyMode, Source
from models import Kind as StoredKind
from services.inbox.inbox import InboxFilters, Sort
from services.replies.replies import reply_modes, single_reply

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# The kinds of item: each provider capability's, as declared, then plaudit's own feedback.
Kind = enum.StrEnum("Kind", {kind.upper(): kind for kind in [*KINDS, StoredKind.FEEDBACK]})


def _instant(value: object) -> datetime | date:
    # Only ISO-8601: pydantic's datetime would also take Unix timestamps, a silent surprise.
    if not isinstance(value, str):
        raise ValueError("must be an ISO-8601 date or date-time")
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO-8601 date or date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


Instant = Annotated[
    datetime | date,
    PlainValidator(_instant),
    WithJsonSchema(
        {
            "type": "string",
            "description": "An ISO-8601 date (a whole day, UTC) or date-time (UTC if no offset)",
            "examples": ["2025-01-31", "2025-01-31T17:30:00+01:00"],
        }
    ),
]


class Author(BaseModel):
    name: str | None
    anonymous: bool
    photo_url: str | None


class ProviderReply(BaseModel):
    """The reply as the provider shows it (ours once sent, or one made elsewhere): Google's
    owner reply, or the page's latest comment under a Facebook item."""

    text: str
    updated_at: datetime | None
    external_id: str | None = Field(
        None, description="The provider's id of it (a Facebook comment), where it has one"
    )
    author: Literal["owner", "page"] = Field(
        "owner", description="`page`: a comment of the Facebook page's; `owner`: the business's"
    )
    state: ModerationState | None = Field(
        None,
        description="The provider's moderation of the reply: `pending` until it decides, "
        "`rejected` when it will not show it; null where the provider reports none",
    )
    policy_violation: str | None = Field(
        None, description="The provider's reason for a rejection, as it words it"
    )


class MediaItem(BaseModel):
    """A reviewer's photo or video, as the provider links it."""

    thumbnail_url: str | None = None
    video_url: str | None = None
    thumbnail_label: str | None = Field(
        None, description="The provider's text for the thumbnail (Google's `thumbnailLabel`)"
    )


class ReplyRef(BaseModel):
    id: int
    status: ReplyState


class ItemOut(BaseModel):
    id: int
    source: Source
    kind: Kind
    connection_id: int | None
    location_id: int | None
    external_id: str
    author: Author
    rating: int | None
    text: str | None
    original_text: str | None
    posted_at: datetime
    provider_updated_at: datetime | None
    replied: bool
    reply: ProviderReply | None
    reply_url: str | None = Field(description="Where the provider lets the owner reply")
    single_reply: bool = Field(
        description="The provider keeps one reply per item (Google, feedback): a reply creates "
        "or replaces it. False (Facebook): the page may answer several times; say a `mode`"
    )
    reply_modes: list[ReplyMode] = Field(
        description="What a reply can do now: `add` an answer, `edit` the one shown, or both; "
        "empty: the item cannot be replied to"
    )
    media: list[MediaItem]
    deleted: bool
    status: ItemStatus
    assignee_user_id: int | None
    tags: list[str]
    language: str | None
    latest_reply: ReplyRef | None

    @classmethod
    def build(cls, item: Item | Row[Any], *, latest_reply: ReplyRef | None, **extra: Any) -> Self:
        """From an Item, or an inbox row with the same column names."""
        return cls(
            id=item.id,
            source=item.source,
            kind=item.kind,
            connection_id=item.connection_id,
            location_id=item.location_id,
            external_id=item.external_id,
            author=Author(
                name=item.author_name,
                anonymous=item.author_anonymous,
                photo_url=item.author_photo_url,
            ),
            rating=item.rating,
            text=item.text,
            original_text=item.original_text,
            posted_at=item.posted_at,
            provider_updated_at=item.provider_updated_at,
            replied=item.reply_text is not None,
            reply=(
                ProviderReply(
                    text=item.reply_text,
                    updated_at=item.reply_updated_at,
                    external_id=item.reply_external_id,
                    author="page" if item.source == Source.FACEBOOK else "owner",
                    state=item.reply_state,
                    policy_violation=item.reply_policy_violation,
                )
                if item.reply_text is not None
                else None
            ),
            reply_url=item.reply_url,
            single_reply=single_reply(item),  # type: ignore[arg-type]
            reply_modes=reply_modes(item),  # type: ignore[arg-type]
            media=[MediaItem(**m) for m in item.media or ()],
            deleted=item.deleted,
            status=item.status,
            assignee_user_id=item.assignee_user_id,
            tags=item.tags,
            language=item.language,
            latest_reply=latest_reply,
            **extra,
        )


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None


class ReplyLimit(BaseModel):
    size: int
    unit: Literal["bytes", "characters"] = Field(
        description="`bytes` of UTF-8 text or `characters` (code points)"
    )


class ItemDetail(ItemOut):
    replies: list[ReplyOut]
    reply_limit: ReplyLimit | None = Field(
        description="The provider's limit on a reply's length, so that a client can count it "
        "as one types; null: the item cannot be replied to"
    )


def _tag(value: str) -> str:
    value = value.strip().lower()
    if not value:
        raise ValueError("must not be blank")
    return value


Tag = Annotated[SafeText, Field(max_length=50), AfterValidator(_tag)]
Tags = Annotated[list[Tag], Field(max_length=20)]
Rating = Annotated[int, Field(ge=1, le=5)]
Language = Annotated[
    SafeText, Field(min_length=2, max_length=20, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
]


class InboxFilterIn(Input):
    """A filter over the inbox; in a query string, repeat a list parameter for each value."""

    location_id: Annotated[list[Id], Field(max_length=100)] = []
    source: Source | None = None
    kind: Kind | None = None
    rating: Annotated[list[Rating], Field(max_length=5)] = []
    min_rating: Rating | None = None
    max_rating: Rating | None = None
    recommended: bool | None = Field(
        None, description="Facebook recommendations: positive (true) or negative (false)"
    )
    replied: bool | None = Field(None, description="Whether the provider shows a reply")
    status: Annotated[list[ItemStatus], Field(max_length=3)] = []
    assignee_user_id: Id | None = None
    unassigned: bool = False
    tag: Annotated[Tags, Field(description="Items carrying all of these tags")] = []
    language: Language | None = None
    q: Annotated[
        SafeText | None,
        Field(
            max_length=200,
            description="Full-text search over the text (both texts of a translated review) "
            "and the author, in web-search syntax",
        ),
    ] = None
    since: Instant | None = Field(None, description="Posted at or after")
    until: Instant | None = Field(
        None, description="Posted before (a date: up to the end of that day)"
    )
    include_deleted: bool = False

    def filters(self) -> InboxFilters:
        return InboxFilters(
            location_ids=self.location_id,
            source=self.source,
            kind=self.kind,
            ratings=self.rating,
            min_rating=self.min_rating,
            max_rating=self.max_rating,
            recommended=self.recommended,
            replied=self.replied,
            statuses=self.status,
            assignee_user_id=self.assignee_user_id,
            unassigned=self.unassigned,
            tags=self.tag,
            language=self.language,
            search=self.q.strip() if self.q and self.q.strip() else None,
            since=self.since,
            until=self.until,
            include_deleted=self.include_deleted,
        )


class ExportQuery(InboxFilterIn):
    sort: Sort = Sort.NEWEST


class InboxQuery(InboxFilterIn):
    sort: Sort = Sort.NEWEST
    limit: Annotated[int, Field(ge=1, le=100)] = 25
    cursor: Annotated[
        SafeText | None, Field(max_length=500, description="`next_cursor` of the previous page")
    ] = None


class ItemPatch(Input):
    """Only the fields given change; `assignee_user_id: null` unassigns."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "closed", "tags": ["staff", "parking"]}]}
    )

    status: ItemStatus | None = None
    assignee_user_id: Id | None = None
    tags: Tags | None = None
    language: Language | None = None


class BulkChanges(Input):
    status: ItemStatus | None = None
    assignee_user_id: Id | None = None
    unassign: bool = False
    add_tags: Tags = []
    remove_tags: Tags = []


class BulkIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "filter": {"max_rating": 2, "status": ["open"]},
                    "changes": {"add_tags": ["urgent"]},
                }
            ]
        }
    )

    filter: InboxFilterIn
    changes: BulkChanges


class BulkOut(BaseModel):
    updated: int = Field(description="How many items matched the filter and were changed.")


class FacetsOut(BaseModel):
    """Counts of the filter's results by status, source, kind, rating and replied: exact while
    the filter matches at most `PLAUDIT_INBOX_FACETS_EXACT_LIMIT` items, estimated above it
    (`estimated`)."""

    total: int
    status: dict[str, int]
    source: dict[str, int]
    kind: dict[str, int]
    rating: dict[str, int] = Field(description="By stars; `none` for items without a rating.")
    replied: dict[str, int] = Field(description="`true` and `false`.")
    estimated: bool = Field(
        description="`false`: every count is exact. `true`: the filter matched more items than"
        " the exact limit, and the counts (total included) are estimated from a sample of the"
        " table's pages, scaled up and rounded to their precision: within a few percent for the"
        " total and the larger values, a value too rare to be sampled may be missing, and a"
        " facet's values need not add up to the total."
    )


class NoteIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"body": "Called them back."}]})

    body: Annotated[SafeText, Field(min_length=1, max_length=5000)]


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    item_id: int
    author_user_id: int | None
    body: str
    created_at: datetime


class NoteList(BaseModel):
    notes: list[NoteOut]
