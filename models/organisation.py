"""Tenants and the people in them."""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, IdMixin, TimestampMixin
from models.types import EncryptedText


class Role(enum.StrEnum):
    """Highest first: a role may do everything the roles below it may."""

    OWNER = "owner"
    ADMIN = "admin"
    MANAGER = "manager"
    RESPONDER = "responder"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return len(Role) - list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class Organisation(IdMixin, TimestampMixin, Base):
    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(200))
    # When set, replies by responders wait for a manager (or higher) to approve them.
    reply_approval_required: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="false"
    )


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    # The address is personal data: encrypted, and found through its blind index.
    email: Mapped[str] = mapped_column(EncryptedText)
    email_index: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(EncryptedText, default="")
    password_hash: Mapped[str] = mapped_column(String(200))


# Owners and admins run the whole organisation, so only the roles below them can be limited to
# some locations; an empty limit would be a member who sees nothing.
LOCATION_LIMIT_CHECK = (
    "location_ids IS NULL OR (role NOT IN ('owner', 'admin') AND cardinality(location_ids) > 0)"
)
LIMITABLE_ROLES = frozenset({Role.MANAGER, Role.RESPONDER, Role.VIEWER})


class Membership(IdMixin, TimestampMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("organisation_id", "user_id"),
        CheckConstraint(LOCATION_LIMIT_CHECK, name="location_limit"),
    )

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    # NULL: every location of the organisation. Otherwise the member sees only these locations'
    # items (services/scope.py); ids of locations deleted since simply match nothing.
    location_ids: Mapped[list[int] | None] = mapped_column(ARRAY(BigInteger))

    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship()
