"""Outbound webhook endpoints an organisation registers, and their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.schemas.common import Input, SafeText
from core.settings import get_settings
from core.targets import pin
from models import DeliveryStatus, WebhookEvent


def _callable_target(value: str) -> str:
    # Refused here, when registered, as well as at each delivery (where it is resolved again).
    pin(value, allow_private=get_settings().webhook_allow_private_targets)
    return value


WebhookUrl = Annotated[SafeText, Field(max_length=2000), AfterValidator(_callable_target)]

Events = Annotated[list[WebhookEvent], Field(min_length=1, max_length=len(WebhookEvent))]


class WebhookIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"url": "https://hooks.example.com/plaudit", "events": ["item.created"]}]
        }
    )

    url: WebhookUrl = Field(
        description="http(s), no credentials, resolving to public addresses only (unless "
        "PLAUDIT_WEBHOOK_ALLOW_PRIVATE_TARGETS)."
    )
    events: Events


class WebhookPatch(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": True}]})

    url: WebhookUrl | None = None
    events: Events | None = None
    active: bool | None = Field(None, description="Re-enable a disabled endpoint with true.")


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[WebhookEvent]
    active: bool
    consecutive_failures: int
    disabled_at: datetime | None
    created_at: datetime


class WebhookCreated(BaseModel):
    webhook: WebhookOut
    secret: str = Field(
        description="Verify `X-Plaudit-Signature: t=…,v1=…` as HMAC-SHA256 of `{t}.{body}` "
        "with this secret. Shown this once."
    )


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event: WebhookEvent
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryOut]
    next_cursor: str | None
