"""Postmark's webhooks: inbound replies from reviewers, bounces and spam complaints.

Postmark authenticates with HTTP basic credentials in the webhook URL; the password must be
``PLAUDIT_EMAIL_WEBHOOK_SECRET``, and without that setting the webhooks do not exist. What the
events do is services.email.events'.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from api.deps import SessionDep
from api.errors import ErrorResponse
from api.schemas.email_webhooks import WebhookOut
from core.errors import NotFound, Unauthorized
from core.settings import get_settings
from services.email import events

router = APIRouter(
    prefix="/webhooks/postmark",
    tags=["webhooks"],
    responses={
        401: {"model": ErrorResponse, "description": "Missing or wrong webhook credentials"},
        404: {"model": ErrorResponse, "description": "Webhooks are not configured"},
    },
)
_basic = HTTPBasic(auto_error=False)


def _authenticated(
    credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
) -> None:
    secret = get_settings().email_webhook_secret.get_secret_value()
    if not secret:
        raise NotFound("Webhooks", message="Not found")
    if credentials is None or not hmac.compare_digest(
        credentials.password.encode(), secret.encode()
    ):
        raise Unauthorized(
            "unauthorized",
            "Webhook credentials required",
            headers={"WWW-Authenticate": "Basic"},
        )


Authenticated = Annotated[None, Depends(_authenticated)]


@router.post("/inbound", summary="A reviewer's answer to a reply notification (Postmark inbound)")
def inbound(payload: dict[str, Any], _: Authenticated, session: SessionDep) -> WebhookOut:
    return WebhookOut(status=events.inbound(session, payload=payload))


@router.post("/bounce", summary="A bounce or spam complaint (Postmark's bounce and spam hooks)")
def bounce(payload: dict[str, Any], _: Authenticated, session: SessionDep) -> WebhookOut:
    return WebhookOut(status=events.bounce(session, payload=payload))
