"""The services as the workers run them, for benchmarks that time one step in this process."""

from __future__ import annotations

from datetime import datetime

from models import SyncRun
from models.db import session_scope
from services.feedback import requests
from services.sync import run


def sync(connection_id: int, capability: str) -> SyncRun | None:
    with run.dedicated_session() as session:
        return run.sync(session, connection_id=connection_id, capability=capability)


def send_due_requests(now: datetime) -> int:
    with session_scope() as session:
        organisations = requests.organisations_due(session, now=now)
    queued = 0
    for organisation_id in organisations:
        with session_scope() as session:
            queued += requests.send_due(session, organisation_id=organisation_id, now=now)
    return queued
