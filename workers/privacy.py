"""Actors of privacy: data-subject requests, retention passes, key rotation."""

from __future__ import annotations

import logging

import dramatiq

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from models.db import session_scope
from services.privacy import keys, retention, subject_requests

log = logging.getLogger(__name__)


@dramatiq.actor(actor_name="privacy.subject_request", max_retries=10, min_backoff=5000)
def process_request(request_id: int) -> None:
    with session_scope() as session:
        subject_requests.process(session, request_id=request_id)


@dramatiq.actor(actor_name="retention.run", max_retries=5, time_limit=6 * 3_600_000)
def run_retention(run_id: int) -> None:
    with session_scope() as session:
        retention.run_retention(session, run_id=run_id)


@dramatiq.actor(actor_name="keys.rotate", max_retries=3, time_limit=24 * 3_600_000)
def rotate_keys() -> None:
    with session_scope() as session:
        done = keys.rotate_all(
            session, progress=lambda d, t: log.info("key rotation: %d of %d values", d, t)
        )
    log.info("key rotation finished: %d values re-encrypted", done)
