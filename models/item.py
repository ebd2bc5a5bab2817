"""The unified inbox: every review, question, comment, mention and feedback in one table."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
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

    @property
    def replied(self) -> bool:
        return self.reply_text is not None
