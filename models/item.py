"""The unified inbox: every review, question, comment, mention and feedback in one table.

The provider's facts (text, rating, reply) are written by the sync's upsert; the workflow
columns (status, assignee, tags, language) belong to the dashboard, and the upsert never names
them: new rows get their defaults. The search vector is a generated column that PostgreSQL keeps
current whenever a text changes.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin


class Source(enum.StrEnum):
    GOOGLE = "google"
    FACEBOOK = "facebook"
    PLAUDIT = "plaudit"  # first-party feedback


class Kind(enum.StrEnum):
    REVIEW = "review"
    QUESTION = "question"
    RECOMMENDATION = "recommendation"
    COMMENT = "comment"
    MENTION = "mention"
    FEEDBACK = "feedback"


class ItemStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


# 'simple': reviews come in every language, so no stemming that favours one of them.
SEARCH_CONFIG = "simple"
SEARCH_EXPRESSION = (
    f"to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(text, '') || ' ' || "
    "coalesce(original_text, '') || ' ' || coalesce(author_name, ''))"
)


# Included in the indexes analytics read (services/inbox/analytics.py): the rating they count and
# the columns of the filters they are most often asked for.
ANALYTICS_COLUMNS = ("rating", "location_id", "deleted", "source", "kind")


class Item(IdMixin, TimestampMixin, Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        # The inbox is newest first with keyset paging on (posted_at, id): one index walk a page.
        # The included columns make analytics' counts an index-only scan of it: what they read
        # and what their filters most often test, the location scope and deletion included.
        Index(
            "ix_items_inbox",
            "organisation_id",
            text("posted_at DESC"),
            text("id DESC"),
            postgresql_include=list(ANALYTICS_COLUMNS),
        ),
        Index(
            "ix_items_location_inbox",
            "location_id",
            text("posted_at DESC"),
            text("id DESC"),
        ),
        # The open inbox (status filter) keeps the keyset walk on one index; so do the rating
        # sorts (ix_items_rating_inbox, below: one index, walked either way).
        Index(
            "ix_items_status_inbox",
            "organisation_id",
            "status",
            text("posted_at DESC"),
            text("id DESC"),
        ),
        Index("ix_items_search", "search_vector", postgresql_using="gin"),
        Index("ix_items_tags", "tags", postgresql_using="gin"),
        # Analytics' reply rate and reply times, index-only too. Whether the provider shows a
        # reply is each index's predicate: the reply's text is unbounded, so it cannot be
        # included, and PostgreSQL answers `reply_text IS NOT NULL` from an index only through
        # a partial index's predicate. Replied items, then the few whose reply was removed but
        # whose reply time stays (the unreplied rest has no reply time to read).
        Index(
            "ix_items_analytics_replied",
            "organisation_id",
            "posted_at",
            postgresql_include=["reply_updated_at", *ANALYTICS_COLUMNS],
            postgresql_where=text("reply_text IS NOT NULL"),
        ),
        Index(
            "ix_items_analytics_reply_removed",
            "organisation_id",
            "posted_at",
            postgresql_include=["reply_updated_at", *ANALYTICS_COLUMNS],
            postgresql_where=text("reply_text IS NULL AND reply_updated_at IS NOT NULL"),
        ),
    )

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    connection_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("connections.id", ondelete="CASCADE")
    )
    location_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("locations.id", ondelete="CASCADE")
    )
    source: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(300))
    author_name: Mapped[str | None] = mapped_column(Text)
    author_external_id: Mapped[str | None] = mapped_column(String(300))
    author_photo_url: Mapped[str | None] = mapped_column(Text)
    author_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    text: Mapped[str | None] = mapped_column(Text)
    # "(Translated by Google) … (Original) …": text holds the translation, this the original.
    original_text: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    provider_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Public at the provider, so plain text like `text`, and redacted like it on every write
    # (sync, push, the reply worker, first-party replies).
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The provider's moderation of the reply it shows (connectors.records.ReplyState; None:
    # no reply, or a provider that moderates none) and, when it rejected it, its raw reason.
    reply_state: Mapped[str | None] = mapped_column(String(20))
    reply_policy_violation: Mapped[str | None] = mapped_column(Text)
    reply_url: Mapped[str | None] = mapped_column(Text)
    # The provider's id of the reply shown (a Facebook page's comment): what an edit changes.
    reply_external_id: Mapped[str | None] = mapped_column(String(300))
    # The reviewer's photos and videos: [{"thumbnail_url": …, "video_url": …}], keys optional.
    media: Mapped[list[dict[str, str]] | None] = mapped_column(JSONB)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    status: Mapped[str] = mapped_column(
        String(20), default=ItemStatus.OPEN, server_default=ItemStatus.OPEN
    )
    assignee_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(50)), default=list, server_default="{}")
    language: Mapped[str | None] = mapped_column(String(20))
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR, Computed(SEARCH_EXPRESSION, persisted=True)
    )

    @property
    def replied(self) -> bool:
        return self.reply_text is not None


# An expression index needs the table's columns, so it is declared once the class exists.
Index(
    "ix_items_rating_inbox",
    Item.organisation_id,
    func.coalesce(Item.rating, 0),
    Item.posted_at,
    Item.id,
)

# The UTC day of an item, as analytics count items by it (date_bin is integer arithmetic on the
# timestamp, far cheaper a row than date_trunc in a time zone). The statistics
# st_items_analytics_days (migration 0008) are on exactly this expression and the rating, so that
# the planner expects a few thousand (day, rating) groups rather than one per item; an SQLAlchemy
# model cannot declare statistics. The origin is a UTC midnight before any item, so every item is
# binned forward from it and never depends on how times before the origin are treated.
ANALYTICS_DAY = func.date_bin(
    literal_column("interval '1 day'"),
    Item.posted_at,
    literal_column("timestamptz '0001-01-01 00:00:00+00'"),
)
