"""The actor that reads back a reply the provider is still moderating."""

from __future__ import annotations

import dramatiq

import workers.broker  # noqa: F401  (the broker must exist before actors are declared)
from models.db import session_scope
from services.replies.moderation import check


# Not retried by the broker: the reply's next check time is the retry (the scheduler's).
@dramatiq.actor(actor_name="reply.check_moderation", max_retries=0)
def check_moderation(reply_id: int) -> None:
    with session_scope() as session:
        check(session, reply_id=reply_id)
