"""Requests that e-mail an address on a stranger's say-so: password resets and sign-ups.

Every request is recorded (``account_requests``, by blind index and client address only) so that
an address receives at most a few such e-mails an hour and one client cannot send many; rows
older than the hour count for nothing and are pruned as new ones arrive. A sign-up waiting for
its address to be confirmed is a ``signup_requests`` row until its link is followed.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.types import EncryptedText


class AccountRequestKind(enum.StrEnum):
    PASSWORD_RESET = "password_reset"
    SIGNUP = "signup"


class AccountRequest(IdMixin, Base):
    __tablename__ = "account_requests"
    __table_args__ = (
        Index("ix_account_requests_address", "kind", "email_index", "created_at"),
        Index("ix_account_requests_client", "kind", "client", "created_at"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    email_index: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    # False: the address has no account, or had its share of e-mails this hour.
    emailed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SignupRequest(IdMixin, TimestampMixin, Base):
    """A sign-up whose address is not confirmed yet. The organisation exists from the request
    on (its e-mail is sent in its name); its owner is created when the link is followed, and an
    organisation whose request expired unconfirmed is deleted with it."""

    __tablename__ = "signup_requests"

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(EncryptedText)
    email_index: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(EncryptedText)
    password_hash: Mapped[str] = mapped_column(Text)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
