"""Internal notes on items, seen only inside the organisation.

A note often says who the reviewer is or how to reach them: its body is redacted like provider
text when written (`services.inbox.workflow.add_note`) and encrypted at rest.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.types import EncryptedText


class ItemNote(IdMixin, TimestampMixin, Base):
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
    body: Mapped[str] = mapped_column(EncryptedText)
