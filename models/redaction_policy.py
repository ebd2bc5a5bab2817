"""Each organisation's redaction settings: detectors switched off, and its own patterns."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.redaction import DEFAULT_POLICY, Policy
from models.base import Base, TimestampMixin


class RedactionPolicy(TimestampMixin, Base):
    __tablename__ = "redaction_policies"

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    disabled_detectors: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    # [{"name": str, "pattern": str}], each checked by core.redaction.compile_custom on save.
    patterns: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)

    def policy(self) -> Policy:
        return Policy.build(
            disabled=self.disabled_detectors,
            patterns=[(p["name"], p["pattern"]) for p in self.patterns],
        )


_CACHE: dict[int, tuple[float, Policy]] = {}
_CACHE_SECONDS = 10.0  # a changed policy applies to ingest within this long


def policy_for(session: Session, organisation_id: int) -> Policy:
    """The organisation's policy, cached briefly: ingest asks once per page."""
    cached = _CACHE.get(organisation_id)
    now = time.monotonic()
    if cached and now - cached[0] < _CACHE_SECONDS:
        return cached[1]
    row = session.get(RedactionPolicy, organisation_id)
    policy = row.policy() if row else DEFAULT_POLICY
    _CACHE[organisation_id] = (now, policy)
    return policy


def forget_policy(organisation_id: int | None = None) -> None:
    """Drop one organisation's cached policy, or (None) every one."""
    if organisation_id is None:
        _CACHE.clear()
    else:
        _CACHE.pop(organisation_id, None)
