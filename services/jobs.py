"""The port through which a service asks for a job once its transaction commits.

A service decides that work must follow (a reply to send, a sync to continue) but must not import
the workers that do it: `workers` imports `services`, never the other way round. So the service
records the intent on its session, naming the actor by its name (``"reply.send"``), and
`workers.enqueue` — imported by every process that has a broker — installs the after-commit
listener that sends what was recorded, and drops it on rollback. A job recorded in a
transaction that rolls back is never sent; one whose send fails after the commit is not lost
either, because the row it names is in PostgreSQL and the scheduler's reconcilers find it.

The names are checked against the declared actors by ``tests/workers/test_actors.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

_KEY = "plaudit.outbound"


@dataclass(frozen=True)
class Job:
    actor: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    delay_ms: int | None = None


def send_after_commit(
    session: Session,
    actor: str,
    *args: Any,
    delay_ms: int | None = None,
    **kwargs: Any,
) -> None:
    """Send a message to ``actor`` with these arguments once ``session`` commits."""
    session.info.setdefault(_KEY, []).append(Job(actor, args, kwargs, delay_ms))


def pending(session: Session) -> list[Job]:
    """The jobs recorded on ``session`` so far (what its commit will send)."""
    return list(session.info.get(_KEY, []))


def take(session: Session) -> list[Job]:
    """The jobs recorded on ``session``, forgotten there (for the sender, at commit)."""
    return session.info.pop(_KEY, [])


def drop(session: Session) -> None:
    """Forget what a rolled-back transaction asked for."""
    session.info.pop(_KEY, None)
