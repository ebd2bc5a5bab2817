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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
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


class Item(IdMixin, TimestampMixin, Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        # The inbox is newest first with keyset paging on (posted_at, id): one index walk a page.
        Index("ix_items_inbox", "organisation_id", text("posted_at DESC"), text("id DESC")),
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
    reply_text: Mapped[str | None] = mapped_column(Text)
    reply_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
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
