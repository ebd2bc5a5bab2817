"""The inbox workflow: status, assignee, tags, language and full-text search on items, and notes.

The item columns belong to this feature, so they are declared here and appended to ``Item``
(SQLAlchemy adds a column assigned to a mapped class to its table and mapper). The sync's upsert
never names them: new rows get the defaults, and the search vector is a generated column that
PostgreSQL keeps current whenever a text changes.
"""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, Computed, ForeignKey, Index, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.item import Item


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

Item.status = mapped_column(
    String(20), default=ItemStatus.OPEN, server_default=ItemStatus.OPEN, nullable=False
)
Item.assignee_user_id = mapped_column(
    BigInteger, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
)
Item.tags = mapped_column(ARRAY(String(50)), default=list, server_default="{}", nullable=False)
Item.language = mapped_column(String(20), nullable=True)
Item.search_vector = mapped_column(TSVECTOR, Computed(SEARCH_EXPRESSION, persisted=True))

_items = Item.__table__
# The open inbox (status filter) and the rating sorts (one index, walked either way) keep the
# keyset walk on one index.
Index(
    "ix_items_status_inbox",
    _items.c.organisation_id,
    _items.c.status,
    _items.c.posted_at.desc(),
    _items.c.id.desc(),
)
Index(
    "ix_items_rating_inbox",
    _items.c.organisation_id,
    func.coalesce(_items.c.rating, 0),
    _items.c.posted_at,
    _items.c.id,
)
Index("ix_items_search", _items.c.search_vector, postgresql_using="gin")
Index("ix_items_tags", _items.c.tags, postgresql_using="gin")


class ItemNote(IdMixin, TimestampMixin, Base):
    """An internal note on an item, seen only inside the organisation."""

    __tablename__ = "item_notes"

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    item_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("items.id", ondelete="CASCADE"), index=True
    )
    author_user_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
