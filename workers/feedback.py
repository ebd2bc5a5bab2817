"""Actors of the e-mail a business sends: feedback requests and reminders, and alert digests;
one organisation a message, so that one organisation's failure leaves the others alone."""

from __future__ import annotations

from datetime import UTC, datetime

import dramatiq

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from models.db import session_scope
from services import alerts
from services.feedback import requests


@dramatiq.actor(actor_name="feedback.send_due", max_retries=3, min_backoff=5000)
def send_due_requests(organisation_id: int) -> None:
    with session_scope() as session:
        requests.send_due(session, organisation_id=organisation_id, now=datetime.now(UTC))


@dramatiq.actor(actor_name="alerts.digests", max_retries=3, min_backoff=5000)
def send_digests(organisation_id: int) -> None:
    with session_scope() as session:
        alerts.send_digests(session, organisation_id=organisation_id, now=datetime.now(UTC))
