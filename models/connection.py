"""A business's link to a provider account, the locations it sees, and sync checkpoints."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.types import EncryptedText


class Provider(enum.StrEnum):
    GOOGLE = "google"
    FACEBOOK = "facebook"


class ConnectionStatus(enum.StrEnum):
    CONNECTING = "connecting"  # consent given; a worker is exchanging the code
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    DISCONNECTED = "disconnected"
    ERROR = "error"


class CapabilityState(enum.StrEnum):
    AVAILABLE = "available"
    RETIRED = "retired"
    MISSING_PERMISSION = "missing_permission"
    DISABLED = "disabled"


class Connection(IdMixin, TimestampMixin, Base):
    __tablename__ = "connections"
    __table_args__ = (Index(None, "next_sync_at", postgresql_where="status = 'active'"),)

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ConnectionStatus.ACTIVE)
    status_message: Mapped[str | None] = mapped_column(Text)
    account_label: Mapped[str] = mapped_column(String(200), default="")
    access_token: Mapped[str | None] = mapped_column(EncryptedText)
    refresh_token: Mapped[str | None] = mapped_column(EncryptedText)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    # {capability: {"state": CapabilityState, "message": str | None, "since": iso}}
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    next_sync_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locations_listed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The provider pushes changes (page webhooks, Pub/Sub): polling is only the safety net.
    push_enabled: Mapped[bool] = mapped_column(default=False, server_default="false")

    @property
    def needs_reauth(self) -> bool:
        return self.status == ConnectionStatus.NEEDS_REAUTH

    def capability_state(self, capability: str) -> str:
        entry = self.capabilities.get(capability) or {}
        return entry.get("state", CapabilityState.AVAILABLE)


class Location(IdMixin, TimestampMixin, Base):
    __tablename__ = "locations"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        Index(None, "next_poll_at", postgresql_where="active"),
    )

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    connection_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("connections.id", ondelete="CASCADE")
    )
    provider: Mapped[str] = mapped_column(String(20))
    # Google: "accounts/{a}/locations/{l}" (the v4 name); Facebook: the page id.
    external_id: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300), default="")
    store_code: Mapped[str | None] = mapped_column(String(100))
    new_review_uri: Mapped[str | None] = mapped_column(Text)
    maps_uri: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    # Facebook: the page's own token, which every call about the page uses.
    access_token: Mapped[str | None] = mapped_column(EncryptedText)
    # Polling (``services.sync.polling``): when the scheduler polls it next, when a sync last
    # read it, and its review rate as reviews seen over days watched (both fading with age).
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    polled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviews_seen: Mapped[float] = mapped_column(default=0.0, server_default="0")
    days_watched: Mapped[float] = mapped_column(default=0.0, server_default="0")


class Checkpoint(TimestampMixin, Base):
    """How far a capability has read one location; the cursor only moves after a safe point."""

    __tablename__ = "checkpoints"

    location_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True
    )
    capability: Mapped[str] = mapped_column(String(40), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text)
    last_full_pass_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OAuthState(TimestampMixin, Base):
    """Server-side half of an OAuth round trip: the callback arrives as a separate request."""

    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(100), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(20))
    code_verifier: Mapped[str | None] = mapped_column(EncryptedText)
    # The redirect URI of the consent request: the code exchange must repeat it exactly, and
    # the worker that exchanges need not know the API's public URL.
    redirect_uri: Mapped[str | None] = mapped_column(Text)
    # Filled by the callback, consumed by the worker that finishes the connection.
    code: Mapped[str | None] = mapped_column(EncryptedText)
    granted_scopes: Mapped[str | None] = mapped_column(Text)
    connection_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("connections.id", ondelete="CASCADE")
    )
    redirect_after: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
