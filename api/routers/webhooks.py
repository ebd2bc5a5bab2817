"""Provider push notifications: Facebook page webhooks and Google Pub/Sub push.

Nothing here trusts the caller: a Facebook delivery is accepted only with a valid signature over
the raw body, a Google push only with a valid OIDC token, and otherwise nothing is stored.
Accepted deliveries are handed to a worker; the provider only needs a quick 200.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from api.errors import ErrorResponse, documented_error
from connectors.facebook.webhooks import SIGNATURE_HEADER, signature_valid
from connectors.google.notifications import PushRefused, review_notification, verify_push
from core.errors import BadRequest, Forbidden, Unauthorized
from core.settings import get_settings
from workers.sync import facebook_delivery, google_notification

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

_HubParam = Annotated[str | None, Query(max_length=500)]


@router.get(
    "/facebook",
    summary="Meta's subscription check: echoes hub.challenge when the verify token matches",
    response_class=PlainTextResponse,
    responses={403: documented_error("Wrong mode or verify token")},
)
def verify_facebook(
    mode: Annotated[_HubParam, Query(alias="hub.mode")] = None,
    verify_token: Annotated[_HubParam, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[_HubParam, Query(alias="hub.challenge")] = None,
) -> PlainTextResponse:
    expected = get_settings().facebook_webhook_verify_token.get_secret_value()
    if (
        mode != "subscribe"
        or not expected
        or not secrets.compare_digest(expected.encode(), (verify_token or "").encode())
    ):
        raise Forbidden("verification_failed", "Unknown verify token", field="hub.verify_token")
    return PlainTextResponse(challenge or "")


@router.post(
    "/facebook",
    summary="Page events from Meta, signed with the app secret (X-Hub-Signature-256)",
    responses={
        401: {"model": ErrorResponse, "description": "Missing or invalid signature"},
        400: {"model": ErrorResponse, "description": "The body is not JSON"},
    },
)
async def receive_facebook(request: Request) -> dict[str, Any]:
    body = await request.body()
    secret = get_settings().facebook_app_secret.get_secret_value()
    if not signature_valid(body, request.headers.get(SIGNATURE_HEADER), secret):
        raise Unauthorized(
            "invalid_signature", "The signature does not match", field=SIGNATURE_HEADER
        )
    try:
        payload = json.loads(body)
    except ValueError:
        raise BadRequest("invalid_body", "The body is not JSON", field="body") from None
    if not isinstance(payload, dict):
        raise BadRequest("invalid_body", "The body is not a JSON object", field="body")
    await run_in_threadpool(facebook_delivery.send, payload)
    return {"received": True}


@router.post(
    "/google",
    summary="Business Profile notifications pushed by Pub/Sub, with Google's OIDC token",
    responses={
        401: {"model": ErrorResponse, "description": "Missing or invalid token"},
        400: {"model": ErrorResponse, "description": "Not a Pub/Sub push"},
    },
)
async def receive_google(request: Request) -> dict[str, Any]:
    try:
        # Fetching Google's keys may block (cached afterwards): off the event loop.
        await run_in_threadpool(verify_push, request.headers.get("authorization"))
    except PushRefused as exc:
        raise Unauthorized("invalid_token", str(exc), field="Authorization") from None
    try:
        notification = review_notification(json.loads(await request.body()))
    except (PushRefused, ValueError) as exc:
        message = str(exc) if isinstance(exc, PushRefused) else "the body is not JSON"
        raise BadRequest("invalid_push", message, field="message") from None
    if notification is not None:
        await run_in_threadpool(google_notification.send, notification.location)
    return {"received": True}
