"""Posting webhook deliveries from the outbox (the mechanism: `services.outbox`).

Each body is JSON signed with HMAC-SHA256 over ``"{timestamp}.{body}"`` with the endpoint's
secret (header ``X-Plaudit-Signature: t=<unix time>,v1=<hex>``), so a receiver can check both
origin and freshness. A failed attempt is retried with exponential backoff until the delivery is
``webhook_retry_seconds`` old, then dropped; after ``webhook_disable_after_failures`` dropped
deliveries in a row the endpoint is disabled and the organisation's owners are e-mailed.

A delivery has no ``sending`` state: a receiver deduplicates by ``X-Plaudit-Delivery`` and there
is nothing to read back, so the attempt is made within the claim, holding the row's lock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.settings import get_settings
from core.targets import RefusedTarget, pin
from models import DeliveryStatus, Membership, Role, User, Webhook, WebhookDelivery
from services import outbox
from services.email import queue_email
from services.outbox import Budget, Failed, Outcome, Retry, Sent
from services.webhooks.emit import DELIVER

log = logging.getLogger(__name__)
# A delivery's message is lost when it is this late (a broker restart).
_LATE = timedelta(minutes=1)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


@dataclass
class _Post:
    webhook: Webhook
    delivery: WebhookDelivery

    def read_back(self) -> Outcome | None:
        return None

    def send(self) -> Outcome:
        status_code, error = _post(self.webhook, self.delivery)
        self.delivery.last_status_code = status_code
        return Sent() if error is None else Retry(error)


class DeliveryOutbox(outbox.Outbox[WebhookDelivery]):
    model = WebhookDelivery
    actor = DELIVER
    budget = Budget(
        first_backoff=timedelta(seconds=30),
        max_backoff=timedelta(hours=6),
        max_age=lambda: timedelta(seconds=get_settings().webhook_retry_seconds),
    )
    pending, sending = DeliveryStatus.PENDING, None
    done, failed = DeliveryStatus.DELIVERED, DeliveryStatus.FAILED

    def prepare(self, session: Session, row: WebhookDelivery) -> Outcome | None:
        if not session.get_one(Webhook, row.webhook_id).active:
            return Failed("the webhook is disabled")
        return None

    @contextmanager
    def attempt(self, session: Session, row: WebhookDelivery) -> Iterator[_Post]:
        yield _Post(session.get_one(Webhook, row.webhook_id), row)

    def recorded(
        self, session: Session, row: WebhookDelivery, outcome: Outcome, now: datetime
    ) -> None:
        webhook = session.get_one(Webhook, row.webhook_id)
        if isinstance(outcome, Sent):
            row.delivered_at = now
            webhook.consecutive_failures = 0
        elif isinstance(outcome, Retry) and row.status == DeliveryStatus.FAILED:
            webhook.consecutive_failures += 1
            if webhook.consecutive_failures >= get_settings().webhook_disable_after_failures:
                _disable(session, webhook, now)

    def gave_up(self, row: WebhookDelivery, error: str) -> str:
        return error  # the delivery log shows each attempt's answer; the last one stays

    def waiting(self, row: WebhookDelivery, until: datetime) -> None:
        row.next_attempt_at = until

    def stale_after(self) -> timedelta:
        return _LATE

    def left_behind(self, query: Select[Any], before: datetime) -> Select[Any]:
        return query.where(WebhookDelivery.next_attempt_at < before).order_by(
            WebhookDelivery.next_attempt_at
        )

    def push_back(self, row: WebhookDelivery, now: datetime) -> None:
        row.next_attempt_at = now + self.budget.backoff(max(row.attempts, 1))


DELIVERIES = DeliveryOutbox()


def deliver(session: Session, *, delivery_id: int) -> str | None:
    """One attempt; returns the delivery's status afterwards (None: busy elsewhere or gone)."""
    return outbox.deliver(session, DELIVERIES, row_id=delivery_id)


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


def _disable(session: Session, webhook: Webhook, now: datetime) -> None:
    webhook.active = False
    webhook.disabled_at = now
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
