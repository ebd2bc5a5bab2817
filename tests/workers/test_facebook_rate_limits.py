"""Facebook's rate limits against the sandbox's budgets (PROVIDERS.md §E, §G.6): a sync the
limits stop is never dropped, it resumes at the page it stopped at; and worker processes that
share a page's budget get every comment and recommendation in with few refusals."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from urllib.parse import parse_qs

import dramatiq
import httpx
import pytest
import redis
from sqlalchemy import func, select

from connectors.errors import RateLimited
from connectors.facebook.usage import APP, page_scope
from connectors.sandbox.server import SandboxServer, base_urls
from connectors.sandbox.state import SandboxState
from core.settings import get_settings
from models import Checkpoint, Connection, Item, Location, Organisation, SyncRun
from services.sync.limits import facebook_gate
from tests.service_calls import sync
from tests.support import Process, delayed_messages, this_runs_broker, wait_for
from tests.workers.facebook_support import connect_facebook, fb_admin, use_facebook_app
from workers.broker import make_broker

# The continuation, and the worker processes, commit on connections of their own.
pytestmark = pytest.mark.commits


def graph_log(server: SandboxServer) -> list[dict]:
    recent = httpx.get(f"{server.url}/_admin/requests/recent", params={"limit": 10_000}).json()
    return [r for r in recent["requests"] if r["path"].startswith("/facebook-graph/")]


def after_of(request: dict) -> str | None:
    return (parse_qs(request["query"]).get("after") or [None])[0]


def facebook_waits_are_over(namespace: str, pages: list[str]) -> None:
    """What Facebook's `estimated_time_to_regain_access` would do with time: the shared
    throttle windows this test's refusals opened are gone, for every process."""
    client = redis.Redis.from_url(get_settings().broker_url)
    keys = client.keys(f"{namespace}:max:facebook:*")
    if keys:
        client.delete(*keys)

    def open_again() -> bool:
        """this process's cached view of the throttle windows has caught up"""
        try:
            for page in pages:
                facebook_gate().acquire((APP, page_scope(page)))
        except RateLimited:
            return False
        return True

    wait_for(open_again, timeout=10)


def test_a_comment_sync_stopped_by_the_pages_limit_resumes_at_the_page_it_stopped_at(db, configure):
    # Given one page with two posts of 250 comments (three pages of comments each)
    state = SandboxState.seeded(seed=11, facebook_pages=1, posts_per_page=2, comments_per_post=250)
    with SandboxServer(state) as server:
        configure(**base_urls(server.url))
        use_facebook_app(configure, facebook_graph_version="v21.0")
        connection = connect_facebook(db)
        assert sync(connection.id, "facebook_ratings").status == "succeeded"  # the page is known
        (page,) = fb_admin(server, "GET", "/summary")["pages"]
        newest, oldest = page["posts"]
        # And a budget of 5 calls: the feed, the newest post's 3 pages, the oldest's first page
        fb_admin(server, "PATCH", "/settings", json={"page_budget": 5, "window_seconds": 3600})
        httpx.delete(f"{server.url}/_admin/requests")
        this_runs_broker().flush_all()

        # When comments sync, Facebook refuses the 6th call with 80001
        run = sync(connection.id, "facebook_comments")

        # Then the run waits, keeping the four comment pages it read
        assert run.status == "waiting" and run.rate_limit_waits == 1 and run.errors == []
        assert fb_admin(server, "GET", "/settings")["refused"] == 1
        stored = db.scalar(select(func.count(Item.id)).where(Item.kind == "comment"))
        assert stored >= 400  # 4 pages of 100 top-level comments, and people's answers
        # And its continuation carries on at the oldest post's second page, in the same run
        (message,) = delayed_messages()
        location = db.scalars(select(Location)).one()
        resume = message["kwargs"]["resume"]
        assert message["kwargs"]["run_id"] == run.id
        assert message["kwargs"]["start_at"] == location.id
        assert resume["parent"] == oldest and resume["children"]["after"]
        refused_request = graph_log(server)[-1]
        assert refused_request["path"].endswith(f"/{oldest}/comments")
        assert after_of(refused_request) == resume["children"]["after"]
        this_runs_broker().flush_all()

        # When Facebook's wait is over and the continuation runs
        fb_admin(server, "PATCH", "/settings", json={"page_budget": None})
        facebook_waits_are_over(get_settings().broker_namespace, [page["id"]])
        httpx.delete(f"{server.url}/_admin/requests")
        continued = sync(connection.id, "facebook_comments", **message["kwargs"])

        # Then it is the same run, finished, with every comment
        assert continued.id == run.id and continued.status == "succeeded"
        db.expire_all()
        total = db.scalar(select(func.count(Item.id)).where(Item.kind == "comment"))
        assert total == page["comments"]
        checkpoint = db.get(Checkpoint, (location.id, "facebook_comments"))
        assert checkpoint.cursor is not None and checkpoint.last_full_pass_at is not None
        # And it read only what was left: the feed (to find the post), then the refused page on
        requests = [(r["path"].rsplit("/", 2)[-2], after_of(r)) for r in graph_log(server)]
        assert requests[0] == (page["id"], None)
        assert requests[1] == (oldest, resume["children"]["after"])
        assert [post for post, _ in requests[1:]] == [oldest, oldest]
        assert newest not in {post for post, _ in requests}


# The sandbox's stand-in for Facebook's minute: it announces the whole window as the wait, as
# it announces a minute for a minute's window. Longer than the 30 s a client waits out in place
# (`ProviderClient`), so a refused sync goes back to the broker and resumes, as at Facebook's.
WINDOW = 32


def test_two_workers_syncing_pages_that_share_a_small_budget_drop_nothing(db, configure):
    """The bug's shape: worker processes × threads syncing several pages' comments and
    recommendations for two organisations, whose page tokens share each page's budget."""
    # Given 3 pages (60 comments on each of 3 posts, 120 recommendations) and a budget of 10
    # calls a page a window, where a first sync of both organisations needs 14 calls a page:
    # subscribing, the feed, each post's comments, two pages of recommendations, twice
    state = SandboxState.seeded(
        seed=13, facebook_pages=3, posts_per_page=3, comments_per_post=60, ratings_per_page=120
    )
    budget = 10
    with SandboxServer(state) as server:
        configure(**base_urls(server.url))
        use_facebook_app(configure, facebook_graph_version="v21.0")
        first = connect_facebook(db)
        connections = [first]
        organisation = Organisation(name="Second shop")
        db.add(organisation)
        db.flush()
        twin = Connection(
            organisation_id=organisation.id,
            provider="facebook",
            status="active",
            access_token=first.access_token,
            token_expires_at=first.token_expires_at,
            scopes=first.scopes,
            capabilities={},
        )
        db.add(twin)
        db.commit()
        connections.append(twin)
        pages = fb_admin(server, "GET", "/summary")["pages"]
        fb_admin(
            server, "PATCH", "/settings", json={"page_budget": budget, "window_seconds": WINDOW}
        )

        # And two worker processes of 4 threads, on a broker namespace (and so a shared
        # usage store) of their own
        namespace = f"fb-limits-{uuid.uuid4().hex[:8]}"
        env = {
            "PLAUDIT_BROKER_NAMESPACE": namespace,
            "PLAUDIT_FACEBOOK_GRAPH_VERSION": "v21.0",
        }
        broker = make_broker(get_settings().broker_url, namespace=namespace)
        workers = [Process("worker", "--threads", "4", env=env) for _ in range(2)]
        started = time.time()
        try:
            # When both organisations' comments and recommendations are asked to sync
            for connection in connections:
                for capability in ("facebook_comments", "facebook_ratings"):
                    broker.enqueue(
                        dramatiq.Message(
                            queue_name="default",
                            actor_name="sync.capability",
                            args=(connection.id, capability),
                            kwargs={},
                            options={},
                        )
                    )

            # Then every sync ends, as one run each, succeeded
            paused: set[int] = set()  # the runs whose continuation waited in the broker

            def finished() -> list[SyncRun] | None:
                """all four syncs have succeeded"""
                waiting = broker.client.hvals(f"{namespace}:default.DQ.msgs")
                paused.update(json.loads(m)["kwargs"].get("run_id") for m in waiting)
                db.expire_all()
                runs = list(db.scalars(select(SyncRun)))
                done = len(runs) == 4 and all(r.status == "succeeded" for r in runs)
                failed = [r for r in runs if r.status in ("failed", "partial")]
                assert not failed, [(r.capability, r.errors) for r in failed]
                return runs if done else None

            runs = wait_for(finished, timeout=240, interval=0.5)
            elapsed = time.time() - started
        finally:
            for worker in workers:
                print(worker.stop()[-3000:])  # shown when the test fails
            broker.flush_all()

        # And every comment and recommendation of every page is in each organisation's inbox
        for connection in connections:
            for kind, expected in (
                ("comment", sum(p["comments"] for p in pages)),
                ("recommendation", sum(len(p["ratings"]) for p in pages)),
            ):
                count = db.scalar(
                    select(func.count(Item.id)).where(
                        Item.connection_id == connection.id, Item.kind == kind
                    )
                )
                assert count == expected, (connection.id, kind)
        # And the budget made them wait and resume: more calls than a window admits, and a
        # refused sync paused in the broker and continued as the same run
        assert any(r.rate_limit_waits for r in runs)
        assert paused & {r.id for r in runs}, "no sync went back to the broker to wait"
        page_calls = [r for r in graph_log(server) if r["status"] == 200]
        assert len(page_calls) > budget * len(pages)
        # And a paused sync resumed at the page it stopped at: no page of comments or
        # recommendations was read more than once for each organisation
        reads = Counter(
            (r["path"], r["query"])
            for r in page_calls
            if r["method"] == "GET" and r["path"].endswith(("/comments", "/ratings"))
        )
        assert max(reads.values()) <= len(connections)
        # And Facebook refused few calls: at most one a sync and page, never a storm of retries
        # (the bug: 86 refusals in a minute)
        refused = fb_admin(server, "GET", "/settings")["refused"]
        print(f"elapsed {elapsed:.0f}s, {len(page_calls)} calls, {refused} refused")
        assert refused <= len(pages) * len(runs)
