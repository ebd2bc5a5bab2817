"""Registering outbound webhook endpoints; `workers.webhooks` delivers to them."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Webhook, WebhookDelivery
from services.scope import Scope, get_in_scope, in_scope


def create(
    session: Session, *, scope: Scope, url: str, events: Sequence[str]
) -> tuple[Webhook, str]:
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook(
        organisation_id=scope.organisation_id,
        url=url,
        events=sorted(set(events)),
        secret=secret,
        active=True,
        consecutive_failures=0,
    )
    session.add(webhook)
    session.flush()
    return webhook, secret


def list_webhooks(session: Session, *, scope: Scope) -> list[Webhook]:
    return list(
        session.scalars(select(Webhook).where(*in_scope(Webhook, scope)).order_by(Webhook.id))
    )


def get(session: Session, *, scope: Scope, webhook_id: int) -> Webhook:
    return get_in_scope(session, scope, Webhook, webhook_id, what="Webhook")


def update(
    webhook: Webhook, *, url: str | None, events: Sequence[str] | None, active: bool | None
) -> None:
    if url is not None:
        webhook.url = url
    if events is not None:
        webhook.events = sorted(set(events))
    if active is not None:
        webhook.active = active
        if active:
            webhook.disabled_at = None
            webhook.consecutive_failures = 0


def deliveries(
    session: Session, *, webhook: Webhook, before_id: int | None, limit: int
) -> tuple[list[WebhookDelivery], bool]:
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    rows = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)))
    return rows[:limit], len(rows) > limit
