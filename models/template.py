"""Reply templates: an organisation's canned replies with variables, rendered in a sandbox."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin


class ReplyTemplate(IdMixin, TimestampMixin, Base):
    __tablename__ = "reply_templates"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
