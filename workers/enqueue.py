"""Send messages only once the transaction that decided to send them has committed.

A message sent before commit could reach a worker before the row it names is visible, or name
a row that is then rolled back. If sending fails after commit nothing is lost: the row is in
PostgreSQL and the scheduler's reconciler re-enqueues it.
"""

from __future__ import annotations

import logging
from typing import Any

from dramatiq import Actor
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "plaudit.outbound"


def enqueue_after_commit(
    session: Session, actor: Actor[..., Any], *args: Any, delay_ms: int | None = None
) -> None:
    session.info.setdefault(_KEY, []).append((actor, args, delay_ms))


@event.listens_for(Session, "after_commit")
def _send(session: Session) -> None:
    for actor, args, delay_ms in session.info.pop(_KEY, []):
        try:
            actor.send_with_options(args=args, delay=delay_ms)
        except Exception:
            log.exception("enqueue failed for %s; the reconciler will retry", actor.actor_name)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_KEY, None)
