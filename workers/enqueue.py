"""Send messages only once the transaction that decided to send them has committed.

A message sent before commit could reach a worker before the row it names is visible, or name
a row that is then rolled back. Services record what they want sent through `services.jobs`
(by actor name, since they may not import the workers); this module installs the listener that
sends it after commit and drops it on rollback. If sending fails after commit nothing is lost:
the row is in PostgreSQL and the scheduler's reconciler re-enqueues it.
"""

from __future__ import annotations

import logging
from typing import Any

from dramatiq import Actor
from sqlalchemy import event
from sqlalchemy.orm import Session

from services import jobs
from workers.broker import broker

log = logging.getLogger(__name__)


def enqueue_after_commit(
    session: Session, actor: Actor[..., Any], *args: Any, delay_ms: int | None = None
) -> None:
    """For the API and the scheduler, which hold the actor itself."""
    jobs.send_after_commit(session, actor.actor_name, *args, delay_ms=delay_ms)


@event.listens_for(Session, "after_commit")
def _send(session: Session) -> None:
    recorded = jobs.take(session)
    if not recorded:
        return
    # A process that only enqueues (the API) has not declared every actor a service may name.
    import workers.actors  # noqa: F401

    for job in recorded:
        try:
            broker.get_actor(job.actor).send_with_options(
                args=job.args, kwargs=job.kwargs, delay=job.delay_ms
            )
        except Exception:
            log.exception("enqueue failed for %s; the reconciler will retry", job.actor)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    jobs.drop(session)
