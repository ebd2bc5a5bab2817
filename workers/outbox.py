"""Actors that send what the outboxes hold: replies, e-mails, webhook deliveries.

The broker never retries these (``max_retries=0``): the outbox row carries the one retry budget,
and a failed attempt that may be retried enqueues its next attempt itself, after its commit
(`services.outbox`). A message lost, or a worker that died, leaves the row unfinished for the
scheduler's reconciler.
"""

from __future__ import annotations

import dramatiq

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from models.db import session_scope
from services.email.delivery import deliver_email
from services.replies.delivery import deliver
from services.webhooks import deliveries


@dramatiq.actor(actor_name="reply.send", max_retries=0)
def send_reply(reply_id: int) -> None:
    with session_scope() as session:
        deliver(session, reply_id=reply_id)


@dramatiq.actor(actor_name="email.send", max_retries=0)
def send_email(message_id: int) -> None:
    with session_scope() as session:
        deliver_email(session, message_id=message_id)


@dramatiq.actor(actor_name="webhooks.deliver", max_retries=0)
def deliver_webhook(delivery_id: int) -> None:
    with session_scope() as session:
        deliveries.deliver(session, delivery_id=delivery_id)
