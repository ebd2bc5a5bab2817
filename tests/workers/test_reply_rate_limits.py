"""A reply the provider refuses for its rate is never failed for it: the refusal was not applied,
so it is waited out without spending the reply's attempts (issue #11's rule for syncs, for
writes too)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Reply
from tests.workers.test_reply_pacing import bulk_reply


@pytest.mark.commits  # a worker's threads send the replies
def test_replies_refused_for_the_rate_are_all_sent_once_on_a_budget_of_one_attempt(
    db, sandbox, configure
):
    # Given a reply budget of a single attempt, and Google refusing most of a bulk reply's
    # writes (3 a window where plaudit paces 10)
    configure(reply_max_attempts=1)

    # When a location's reviews are all replied to at once (the helper waits for every reply
    # to be sent, failing the test on the first failed one)
    replies, _, calls = bulk_reply(db, sandbox, configure, google_limit=3)

    # Then Google refused writes, and each reply went out once all the same
    refused = [c for c in calls if c["status"] == 429]
    assert len(refused) > 0
    assert (
        db.scalar(select(func.max(Reply.attempts)).where(Reply.id.in_([r.id for r in replies])))
        == 1
    )
