"""Privacy settings and requests: redaction, retention, data-subject requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import SafeText
from core.redaction import KINDS
from models.privacy import DataClass

Detector = Literal[KINDS]  # type: ignore[valid-type]


class CustomPattern(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    pattern: SafeText = Field(min_length=1, max_length=500)


class RedactionSettings(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "disabled_detectors": ["phone"],
                    "patterns": [{"name": "member", "pattern": "MBR-[0-9]{6}"}],
                }
            ]
        },
    )

    disabled_detectors: list[Detector] = Field(default_factory=list, max_length=len(KINDS))
    patterns: list[CustomPattern] = Field(default_factory=list, max_length=50)


class RetentionSettings(BaseModel):
    """Days kept per data class; null keeps that class until someone erases it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"days": {"sync_runs": 30, "first_party_feedback": None}}]},
    )

    days: dict[DataClass, int | None]


class RedactSpan(BaseModel):
    """Characters ``start`` to ``end`` of the item's text; both omitted: the whole text."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"start": 0, "end": 4}]}
    )

    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=1)


class SubjectRequestIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"kind": "export", "email": "customer@example.com"}]},
    )

    kind: Literal["export", "erasure"]
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    reviewer_id: str | None = Field(default=None, min_length=1, max_length=300)


class SubjectRequestOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None
    overdue: bool
    counts: dict[str, Any]
    export: dict[str, Any] | None = None


class SubjectRequestList(BaseModel):
    requests: list[SubjectRequestOut]


class EncryptionStatus(BaseModel):
    """The organisation's encrypted values by key: a rotation is done when none is left on an
    older key."""

    current_key: str
    values: int
    values_on_old_keys: int
    rotation_done: bool
