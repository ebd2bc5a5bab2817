"""Recording webhook deliveries: a row per subscribed endpoint, posted by a worker after commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent
from services.jobs import send_after_commit

DELIVER = "webhooks.deliver"  # the actor that posts one delivery


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
        send_after_commit(session, DELIVER, delivery.id)
    return len(deliveries)
