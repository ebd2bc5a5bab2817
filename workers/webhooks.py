"""Outbound webhooks: a delivery row per subscribed endpoint, posted by a worker after commit.

Each body is JSON signed with HMAC-SHA256 over ``"{timestamp}.{body}"`` with the endpoint's
secret (header ``X-Plaudit-Signature: t=<unix time>,v1=<hex>``), so a receiver can check both
origin and freshness. A failed attempt is retried with exponential backoff until the delivery is
``webhook_retry_seconds`` old, then dropped; after ``webhook_disable_after_failures`` dropped
deliveries in a row the endpoint is disabled and the organisation's owners are e-mailed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dramatiq
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from models import (
    DeliveryStatus,
    Membership,
    Role,
    User,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from models.db import session_scope
from plaudit.email import queue_email
from plaudit.settings import get_settings
from plaudit.targets import RefusedTarget, pin
from workers.enqueue import enqueue_after_commit

log = logging.getLogger(__name__)
_FIRST_BACKOFF = timedelta(seconds=30)
_MAX_BACKOFF = timedelta(hours=6)
BATCH = 500


def emit(
    session: Session, *, organisation_id: int, event: WebhookEvent | str, payload: dict[str, Any]
) -> int:
    """Record a delivery for every active endpoint subscribed to ``event``; each is posted after
    the caller's transaction commits. Returns how many deliveries were recorded."""
    return emit_many(session, organisation_id=organisation_id, events=[(event, payload)])


def emit_many(
    session: Session,
    *,
    organisation_id: int,
    events: Sequence[tuple[WebhookEvent | str, dict[str, Any]]],
) -> int:
    """``emit`` for a batch (a sync page): one look-up of the endpoints for all of them."""
    if not events:
        return 0
    wanted = {WebhookEvent(event) for event, _ in events}
    endpoints = session.scalars(
        select(Webhook).where(
            Webhook.organisation_id == organisation_id,
            Webhook.active.is_(True),
            Webhook.events.overlap([event.value for event in wanted]),
        )
    ).all()
    if not endpoints:
        return 0
    now = datetime.now(UTC)
    deliveries = [
        WebhookDelivery(
            webhook_id=endpoint.id,
            organisation_id=organisation_id,
            event=WebhookEvent(event).value,
            payload=payload,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
        )
        for event, payload in events
        for endpoint in endpoints
        if WebhookEvent(event).value in endpoint.events
    ]
    session.add_all(deliveries)
    session.flush()
    for delivery in deliveries:
        enqueue_after_commit(session, deliver_webhook, delivery.id)
    return len(deliveries)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    return min(_FIRST_BACKOFF * 2 ** (attempts - 1), _MAX_BACKOFF)


@dramatiq.actor(actor_name="webhooks.deliver", max_retries=0)
def deliver_webhook(delivery_id: int) -> None:
    deliver(delivery_id)


def deliver(delivery_id: int) -> str | None:
    """One attempt; returns the delivery's status afterwards (None: busy elsewhere or gone).

    The row stays locked during the request, so two workers never post the same delivery."""
    with session_scope() as session:
        delivery = session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .with_for_update(skip_locked=True)
        ).one_or_none()
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return delivery.status if delivery else None
        webhook = session.get_one(Webhook, delivery.webhook_id)
        if not webhook.active:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "the webhook is disabled"
            return delivery.status
        delivery.attempts += 1
        status_code, error = _post(webhook, delivery)
        delivery.last_status_code, delivery.last_error = status_code, error
        now = datetime.now(UTC)
        if error is None:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            webhook.consecutive_failures = 0
            return delivery.status
        wait = backoff(delivery.attempts)
        deadline = delivery.created_at + timedelta(seconds=get_settings().webhook_retry_seconds)
        if now + wait < deadline:
            delivery.next_attempt_at = now + wait
            enqueue_after_commit(
                session, deliver_webhook, delivery.id, delay_ms=int(wait.total_seconds() * 1000)
            )
            return delivery.status
        delivery.status = DeliveryStatus.FAILED
        webhook.consecutive_failures += 1
        if webhook.consecutive_failures >= get_settings().webhook_disable_after_failures:
            _disable(session, webhook)
        return delivery.status


def _post(webhook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, str | None]:
    """(status code, error) of one POST; the error never quotes the response or the URL."""
    body = json.dumps(
        {
            "id": delivery.id,
            "event": delivery.event,
            "created_at": delivery.created_at.isoformat(),
            "data": delivery.payload,
        },
        separators=(",", ":"),
    ).encode()
    try:
        # Resolved once, here; the connection goes to this very address.
        target = pin(webhook.url, allow_private=get_settings().webhook_allow_private_targets)
    except RefusedTarget as exc:
        return None, str(exc)
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": "plaudit-webhooks/1",
        "X-Plaudit-Event": delivery.event,
        "X-Plaudit-Delivery": str(delivery.id),
        "X-Plaudit-Signature": sign(webhook.secret, int(time.time()), body),
    }
    try:
        with httpx.Client(timeout=get_settings().webhook_timeout_seconds) as client:
            response = client.post(
                target.url,
                content=body,
                headers=headers,
                follow_redirects=False,
                # TLS is negotiated and the certificate checked for the name, not the address.
                extensions={"sni_hostname": target.server_name} if target.server_name else None,
            )
    except httpx.HTTPError as exc:
        return None, f"request failed: {type(exc).__name__}"
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"answered {response.status_code}"


def _disable(session: Session, webhook: Webhook) -> None:
    webhook.active = False
    webhook.disabled_at = datetime.now(UTC)
    log.warning("webhook %s disabled after persistent failures", webhook.id)
    owners = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == webhook.organisation_id, Membership.role == Role.OWNER)
    )
    for owner in owners:
        queue_email(
            session,
            organisation_id=webhook.organisation_id,
            to=owner.email,
            template="notice",
            context={
                "subject": "A webhook was disabled",
                "body": f"Deliveries to your webhook #{webhook.id} kept failing for a day, so it "
                "has been disabled. Fix the receiving end, then re-enable it in the dashboard; "
                "its delivery log shows each attempt.",
                "action_url": None,
                "action_label": None,
            },
        )


def enqueue_due_deliveries(now: datetime) -> int:
    """For the scheduler: deliveries whose message was lost (a broker restart) are sent again.
    Claimed with SKIP LOCKED and pushed forward, so several schedulers never double them."""
    grace = timedelta(minutes=1)
    with session_scope() as session:
        due = list(
            session.scalars(
                select(WebhookDelivery)
                .where(
                    WebhookDelivery.status == DeliveryStatus.PENDING,
                    WebhookDelivery.next_attempt_at < now - grace,
                )
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        )
        for delivery in due:
            delivery.next_attempt_at = now + backoff(max(delivery.attempts, 1))
            enqueue_after_commit(session, deliver_webhook, delivery.id)
    return len(due)
