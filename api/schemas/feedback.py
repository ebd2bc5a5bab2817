"""Feedback campaigns, recipient uploads, suppressions and an organisation's feedback settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from api.schemas.common import Email, Id, Input, Name, SafeText
from models import RecipientStatus, SuppressionReason

MAX_RECIPIENTS = 50_000


class CampaignIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Spring visitors"}]})

    name: Name
    location_id: Id | None = Field(None, description="Default location of its recipients")


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    location_id: int | None
    created_at: datetime
    counts: dict[RecipientStatus, int] = Field(description="Recipients by status")
    total: int


class CampaignEnvelope(BaseModel):
    campaign: CampaignOut


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]


class RecipientOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    location_id: int | None
    external_ref: str | None
    status: RecipientStatus
    requests_sent: int
    first_sent_at: datetime | None
    answered_at: datetime | None
    item_id: int | None


class RecipientPage(BaseModel):
    recipients: list[RecipientOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class RecipientRow(Input):
    """One row of an upload, from JSON or from a CSV line with these column names."""

    name: Name
    email: Email
    location_id: Id | None = None
    external_ref: Annotated[SafeText, Field(max_length=200)] | None = None


class RecipientsIn(Input):
    # Rows are validated one by one (a bad row is reported, not fatal), so they arrive raw.
    recipients: list[dict[str, object]] = Field(
        description=f"At most {MAX_RECIPIENTS:,} rows of name, email, location_id, external_ref"
    )


class RejectedRow(BaseModel):
    line: int = Field(description="CSV: the line in the file; JSON: the 1-based row")
    field: str | None
    reason: str


class UploadOut(BaseModel):
    accepted: int = Field(description="New recipients, queued")
    merged: int = Field(description="Duplicates of a row above or of an earlier upload")
    suppressed: int = Field(description="On the suppression list: not added")
    rejected_count: int
    rejected: list[RejectedRow] = Field(description="The first 1,000 invalid rows")


class SuppressionIn(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email": "someone@example.com"}]})

    email: Email


class SuppressionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reason: SuppressionReason
    created_at: datetime


class SuppressionList(BaseModel):
    total: int
    suppressions: list[SuppressionOut] = Field(description="The newest 100")


Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class FeedbackSettingsIn(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"brand_colour": "#336699", "max_reminders": 1}]}
    )

    logo_url: HttpUrl | None = None
    brand_colour: Colour | None = None
    facebook_url: HttpUrl | None = Field(None, description="Where the thank-you page sends to")
    frequency_cap_days: Annotated[int, Field(ge=0, le=3650)] | None = None
    hourly_limit: Annotated[int, Field(ge=1, le=100_000)] | None = None
    max_reminders: Annotated[int, Field(ge=0, le=5)] | None = None
    reminder_days: Annotated[int, Field(ge=1, le=60)] | None = None


class FeedbackSettingsOut(BaseModel):
    """The values in force: the organisation's own, or the deployment's defaults."""

    logo_url: str | None
    brand_colour: str | None
    facebook_url: str | None
    frequency_cap_days: int
    hourly_limit: int
    max_reminders: int
    reminder_days: int


class FeedbackPreviewOut(BaseModel):
    """The feedback request and the public page as they would look with the settings sent."""

    subject: str
    text: str = Field(description="The e-mail's plain-text part")
    email_url: str = Field(description="The e-mail's HTML part, for a frame (valid 15 minutes)")
    page_url: str = Field(description="The public feedback page, for a frame (valid 15 minutes)")
