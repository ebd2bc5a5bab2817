"""Syncing and replying on Facebook against the sandbox, including the ways it goes wrong."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlalchemy import select

from connectors.sandbox.server import SandboxServer, base_urls
from connectors.sandbox.state import SandboxState
from models import Checkpoint, Connection, Item, Reply, ReplyAction, ReplyStatus
from services.sync.limits import facebook_gate
from tests.service_calls import deliver, sync
from tests.support import delayed_messages, this_runs_broker
from tests.workers.facebook_support import connect_facebook, fb_admin, use_facebook_app

CAPABILITIES = ("facebook_ratings", "facebook_comments", "facebook_tagged")


@pytest.fixture
def facebook(db, sandbox, configure):
    use_facebook_app(configure, facebook_graph_version="v21.0")
    return connect_facebook(db)


def graph_requests(sandbox, path: str = "") -> int:
    counts = httpx.get(
        f"{sandbox.url}/_admin/requests", params={"path": "^/facebook-graph/" + path}
    ).json()
    return counts["total"]


def reset_requests(sandbox) -> None:
    httpx.delete(f"{sandbox.url}/_admin/requests")


def items(db, **where):
    db.expire_all()
    query = select(Item)
    for key, value in where.items():
        query = query.where(getattr(Item, key) == value)
    return list(db.scalars(query.order_by(Item.id)))


def connection_of(db, connection: Connection) -> Connection:
    db.expire_all()
    return db.get(Connection, connection.id)


def test_a_second_sync_with_nothing_new_reads_one_page_a_location_and_writes_nothing(
    db, sandbox, facebook
):
    for capability in CAPABILITIES:
        assert sync(facebook.id, capability).status == "succeeded"
    reset_requests(sandbox)

    runs = [sync(facebook.id, capability) for capability in CAPABILITIES]

    assert [run.written for run in runs] == [0, 0, 0]
    assert graph_requests(sandbox) == 2 * len(CAPABILITIES)  # two pages, one listing each


def test_a_new_comment_on_an_old_post_is_found_by_reading_only_that_posts_comments(
    db, sandbox, facebook
):
    sync(facebook.id, "facebook_comments")
    post = fb_admin(sandbox, "GET", "/summary")["pages"][0]["posts"][-1]
    fb_admin(sandbox, "POST", "/comments", json={"parent_id": post, "message": "Still open?"})
    reset_requests(sandbox)

    run = sync(facebook.id, "facebook_comments")

    assert run.written == 1
    assert [i.text for i in items(db, text="Still open?")] == ["Still open?"]
    assert graph_requests(sandbox, r".*/comments$") == 1


def test_an_expired_token_moves_the_connection_to_needs_reauth(db, sandbox, facebook):
    # Given Facebook answers 190/463 (session expired)
    fb_admin(sandbox, "POST", "/expire-tokens")

    run = sync(facebook.id, "facebook_comments")

    assert run.status == "failed"
    connection = connection_of(db, facebook)
    assert connection.status == "needs_reauth"
    assert "190/463" in connection.status_message


def test_a_missing_permission_is_shown_on_the_connection_and_the_rest_keeps_syncing(
    db, sandbox, facebook
):
    # Given the person took back pages_read_user_content (Facebook answers #283)
    fb_admin(sandbox, "POST", "/faults", json={"path": "/ratings$", "code": 283, "times": -1})

    sync(facebook.id, "facebook_ratings")
    comments = sync(facebook.id, "facebook_comments")

    connection = connection_of(db, facebook)
    assert connection.status == "active"
    state = connection.capabilities["facebook_ratings"]
    assert state["state"] == "missing_permission" and "283" in state["message"]
    assert comments.status == "succeeded" and items(db, kind="comment")
    assert sync(facebook.id, "facebook_ratings") is None  # not asked again


def test_error_12_retires_recommendations_only(db, sandbox, facebook):
    fb_admin(sandbox, "POST", "/faults", json={"path": "/ratings$", "code": 12, "times": -1})

    sync(facebook.id, "facebook_ratings")

    state = connection_of(db, facebook).capabilities["facebook_ratings"]
    assert state["state"] == "retired"
    assert sync(facebook.id, "facebook_tagged").status == "succeeded"


class SkippedWaits:
    """The clock of a pacing gate whose waits are recorded and skipped instead of slept: real
    time, moved on by every wait asked for."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.time() + self.skipped

    def wait(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.skipped += max(0.0, seconds)


def test_a_short_throttle_is_waited_out_and_the_sync_completes(db, sandbox, facebook, monkeypatch):
    # Given two throttled answers with nothing to wait for (regain in 0 minutes)
    fb_admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": "/ratings$", "code": 32, "times": 2, "regain_minutes": 0},
    )
    # And the sync's gate (this Graph host's, shared by its calls) on a clock that skips waits
    gate, clock = facebook_gate(), SkippedWaits()
    monkeypatch.setattr(gate, "clock", clock)
    monkeypatch.setattr(gate, "sleep", clock.wait)
    this_runs_broker().flush_all()

    run = sync(facebook.id, "facebook_ratings")

    assert run.status == "succeeded" and run.requests >= 2 + 2
    assert len(items(db, kind="recommendation")) == 10
    # Waited out in place, the page held at its limit after each refusal (2 s, to the whole
    # second), not handed back to the broker
    assert len([w for w in clock.waits if w >= 1]) >= 2 and sum(clock.waits) >= 2 * 2
    assert delayed_messages() == [] and run.rate_limit_waits >= 2


def test_a_page_throttled_for_minutes_goes_back_to_the_broker_and_keeps_the_cursor(
    db, sandbox, facebook
):
    fb_admin(
        sandbox,
        "POST",
        "/faults",
        json={"path": "/ratings$", "code": 80001, "times": 1, "regain_minutes": 3},
    )

    this_runs_broker().flush_all()
    before = time.time()

    run = sync(facebook.id, "facebook_ratings")

    # The run waits in the broker for estimated_time_to_regain_access, then carries on
    assert run.status == "waiting" and run.rate_limit_waits == 1
    assert run.resumes_at.timestamp() == pytest.approx(before + 180, abs=10)
    (message,) = delayed_messages()
    assert message["kwargs"]["run_id"] == run.id
    assert message["options"]["eta"] == pytest.approx((before + 180) * 1000, abs=10_000)
    this_runs_broker().flush_all()
    assert db.scalars(select(Checkpoint).where(Checkpoint.cursor.is_not(None))).all() == []
    assert connection_of(db, facebook).status == "active"


def _reply(db, item: Item, body: str, action: str = ReplyAction.POST) -> Reply:
    reply = Reply(
        organisation_id=item.organisation_id,
        item_id=item.id,
        body=body,
        idempotency_key=uuid.uuid4().hex,
        action=action,
    )
    db.add(reply)
    db.commit()
    return reply


def test_our_reply_to_a_comment_can_be_edited_and_deleted(db, sandbox, facebook):
    sync(facebook.id, "facebook_comments")
    comment = next(i for i in items(db, kind="comment") if i.reply_text is None)

    def ours() -> list[str]:
        return [
            r["message"]
            for r in fb_admin(sandbox, "GET", "/replies")["replies"]
            if r["parent_id"] == comment.external_id and not r["deleted"]
        ]

    assert deliver(_reply(db, comment, "Thanks!").id) == ReplyStatus.SENT
    assert ours() == ["Thanks!"]
    assert deliver(_reply(db, comment, "Thanks a lot!", ReplyAction.UPDATE).id) == "sent"
    assert ours() == ["Thanks a lot!"]  # edited in place, not a second comment
    assert deliver(_reply(db, comment, "", ReplyAction.DELETE).id) == "sent"
    assert ours() == []
    assert items(db, id=comment.id)[0].reply_text is None


def test_an_incremental_comment_sync_with_nothing_new_reads_one_feed_page_of_several(db, configure):
    # Given a page with 250 posts: three pages of feed
    state = SandboxState.seeded(seed=5, facebook_pages=1, posts_per_page=250, comments_per_post=1)
    with SandboxServer(state) as server:
        configure(**base_urls(server.url))
        use_facebook_app(configure, facebook_graph_version="v21.0")
        connection = connect_facebook(db)
        assert sync(connection.id, "facebook_comments").status == "succeeded"  # the full pass
        assert graph_requests(server, r".*/feed$") == 3
        reset_requests(server)

        # When nothing is new, the next pass costs one request: the feed's first page
        run = sync(connection.id, "facebook_comments")
        assert run.status == "succeeded" and run.written == 0
        assert graph_requests(server) == 1

        # And a new comment on the newest post costs that post's comments besides
        (page,) = fb_admin(server, "GET", "/summary")["pages"]
        fb_admin(
            server, "POST", "/comments", json={"parent_id": page["posts"][0], "message": "New!"}
        )
        reset_requests(server)
        run = sync(connection.id, "facebook_comments")
        assert run.written == 1 and [i.text for i in items(db, text="New!")] == ["New!"]
        assert graph_requests(server, r".*/feed$") == 1
        assert graph_requests(server, r".*/comments$") == 1
