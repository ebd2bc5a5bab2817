"""A write to a provider is never repeated blind: when its answer is lost, the next attempt
reads the provider's state back first. Against the sandbox's `drop` fault, which applies the
write and then cuts the connection mid-answer."""

from __future__ import annotations

import dramatiq
import pytest
import requests
import urllib3

from connectors import errors
from connectors.base import ProviderClient, never_sent
from connectors.google.errors import GoogleErrors
from models import Item, ReplyStatus
from tests.workers.facebook_support import fb_admin
from tests.workers.test_facebook_sync import _reply, facebook, items  # noqa: F401  (fixture)
from tests.workers.test_reply import REPLY_PATH, pending_reply, reload
from tests.workers.test_sync import admin
from workers.reply import deliver
from workers.sync import sync


def reply_puts(sandbox) -> int:
    """Every request to a review's reply Google received, answered or not."""
    return admin(sandbox, "GET", "/requests", params={"path": REPLY_PATH})["total"]


def test_a_google_reply_whose_answer_was_lost_reaches_google_once(db, sandbox):
    # Given a reply, and Google applying the PUT but the answer never arriving
    reply = pending_reply(db)
    admin(sandbox, "POST", "/faults", json={"path": REPLY_PATH, "method": "PUT", "drop": True})

    # When it is attempted: the write is not repeated in place; the broker will retry it
    with pytest.raises(dramatiq.Retry):
        deliver(reply.id)
    assert reload(db, reply).status == ReplyStatus.PENDING
    assert reply_puts(sandbox) == 1

    # and the retry reads Google's state back and records what is there
    assert deliver(reply.id) == ReplyStatus.SENT
    assert reply_puts(sandbox) == 1
    assert reload(db, reply).attempts == 2


def test_a_google_reply_refused_with_a_5xx_is_read_back_then_posted_once(db, sandbox):
    # Given a 503 before Google did anything (the client cannot know that)
    reply = pending_reply(db)
    admin(sandbox, "POST", "/faults", json={"path": REPLY_PATH, "method": "PUT", "status": 503})

    with pytest.raises(dramatiq.Retry):
        deliver(reply.id)
    # the retry finds nothing at Google, so it posts
    assert deliver(reply.id) == ReplyStatus.SENT
    applied = [r for r in admin(sandbox, "GET", "/replies") if r["status"] < 400]
    assert [r["comment"] for r in applied] == [reply.body]


def test_a_facebook_comment_reply_whose_answer_was_lost_is_published_once(
    db, sandbox, facebook  # noqa: F811
):
    sync(facebook.id, "facebook_comments")
    comment = next(i for i in items(db, kind="comment") if i.reply_text is None)
    admin(sandbox, "POST", "/faults", json={"path": r"/comments$", "method": "POST", "drop": True})

    def published() -> list[str]:
        return [
            r["message"]
            for r in fb_admin(sandbox, "GET", "/replies")["replies"]
            if r["parent_id"] == comment.external_id and not r["deleted"]
        ]

    reply = _reply(db, comment, "Thank you, see you soon!")
    with pytest.raises(dramatiq.Retry):
        deliver(reply.id)
    assert published() == ["Thank you, see you soon!"]

    assert deliver(reply.id) == ReplyStatus.SENT
    assert published() == ["Thank you, see you soon!"]  # one public comment, not two
    db.expire_all()
    assert db.get(Item, comment.id).reply_text == "Thank you, see you soon!"


# The classification itself, with failures built by hand (no HTTP at all).


def _client() -> ProviderClient:
    return ProviderClient(
        base_url="http://provider.invalid/", error_table=GoogleErrors(), sleep=lambda s: None
    )


def _refused_connection() -> requests.ConnectionError:
    new = urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", new))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("failure", "sent"),
    [
        (requests.exceptions.ConnectTimeout(), False),
        (_refused_connection(), False),
        (requests.exceptions.ReadTimeout(), True),
        (requests.exceptions.ChunkedEncodingError(), True),
        (requests.ConnectionError(urllib3.exceptions.ProtocolError("reset")), True),
    ],
)
def test_which_network_errors_may_have_reached_the_provider(failure, sent):
    assert never_sent(failure) is not sent


def _failing(*failures: BaseException):
    calls: list[int] = []

    def attempt() -> dict:
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return {"ok": True}

    return attempt, calls


def test_a_write_with_a_lost_answer_is_not_retried_in_place():
    attempt, calls = _failing(requests.exceptions.ReadTimeout())
    with pytest.raises(errors.Ambiguous):
        _client().call(attempt, write=True)
    assert len(calls) == 1


def test_a_write_answered_5xx_is_ambiguous():
    attempt, calls = _failing(ProviderClient.failure(503, {"error": {"code": 503}}))
    with pytest.raises(errors.Ambiguous):
        _client().call(attempt, write=True)
    assert len(calls) == 1


def test_a_write_that_never_left_or_was_rate_limited_is_retried_in_place():
    attempt, calls = _failing(
        _refused_connection(), ProviderClient.failure(429, {"error": {"code": 429}}, 0.01)
    )
    assert _client().call(attempt, write=True) == {"ok": True}
    assert len(calls) == 3


def test_a_read_is_retried_in_place_after_any_transient_failure():
    attempt, calls = _failing(requests.exceptions.ReadTimeout(), ProviderClient.failure(503, {}))
    assert _client().call(attempt) == {"ok": True}
    assert len(calls) == 3

