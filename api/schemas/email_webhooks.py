"""What our answer to Postmark's webhooks says."""

from __future__ import annotations

from pydantic import BaseModel


class WebhookOut(BaseModel):
    # Two response models are called WebhookOut, so the OpenAPI document names each by its
    # module; this one keeps the name it had when it was declared beside its routes.
    __module__ = "api.routers.email_webhooks"

    status: str  # "added", "suppressed" or "ignored"
