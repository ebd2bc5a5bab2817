"""Benchmark: a Facebook page of 200 posts × 50 comments, synced end to end.

Prints, in one run: comments/s and Graph requests of the first sync of the comments capability
(feed, then each post's comments with their reply threads, upserted into PostgreSQL), beside the
time to only fetch the same pages with one keep-alive client; and the cost of a second sync
with nothing new (target: the first feed page only, no writes).

    .venv/bin/python bench/sync_facebook.py [--posts 200] [--comments 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import configure_environment, free_port, recreate_database, sandbox_process


def connect_facebook() -> int:
    """An organisation with a Facebook connection granted through the sandbox's dialog."""
    from urllib.parse import parse_qs, urlparse

    import httpx

    from connectors.facebook import oauth
    from models import Connection, ConnectionStatus, Organisation
    from models.db import session_scope

    redirect = "http://127.0.0.1:9/callback"
    url, verifier = oauth.authorization_url(state="bench", redirect_uri=redirect)
    location = httpx.get(url + "&sandbox_decision=allow").headers["location"]
    code = parse_qs(urlparse(location).query)["code"][0]
    tokens = oauth.exchange_code(code=code, code_verifier=verifier, redirect_uri=redirect)
    with session_scope() as session:
        organisation = Organisation(name="Bench")
        session.add(organisation)
        session.flush()
        connection = Connection(
            organisation_id=organisation.id,
            provider="facebook",
            status=ConnectionStatus.ACTIVE,
            access_token=tokens.access_token,
            token_expires_at=tokens.expires_at,
            scopes=tokens.scopes,
            capabilities={},
        )
        session.add(connection)
        session.flush()
        return connection.id


def raw_fetch(graph_url: str, page_id: str, token: str) -> tuple[float, int, int]:
    """The same feed and comment pages, one keep-alive client, no parsing beyond paging."""
    import requests

    from connectors.facebook.comments import FacebookComments
    from connectors.facebook.graph import version

    stream = FacebookComments(client=None)  # type: ignore[arg-type]
    session = requests.Session()
    base = f"{graph_url}{version()}/"
    requests_made = records = 0

    def edge(path: str, params: dict) -> list[dict]:
        nonlocal requests_made
        out: list[dict] = []
        while True:
            body = session.get(base + path, params={**params, "access_token": token}).json()
            requests_made += 1
            out.extend(body.get("data") or [])
            paging = body.get("paging") or {}
            if not paging.get("next"):
                return out
            params = {**params, "after": paging["cursors"]["after"]}

    started = time.perf_counter()
    posts = stream.parent(client=None)  # type: ignore[arg-type]
    for post in edge(posts.path(page_id), posts.params()):
        for comment in edge(stream.child_path(post["id"]), stream.child_query):
            records += 1 + len((comment.get("comments") or {}).get("data") or [])
    return time.perf_counter() - started, requests_made, records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--comments", type=int, default=50)
    args = parser.parse_args()
    port = free_port()
    extra = (
        "--facebook-pages", "1", "--posts-per-page", str(args.posts),
        "--comments-per-post", str(args.comments), "--ratings-per-page", "0",
    )  # fmt: skip
    print(f"seeding the sandbox: 1 page, {args.posts} posts x {args.comments} comments …")
    with sandbox_process(locations=1, reviews_per_location=1, port=port, extra_args=extra) as url:
        os.environ.update(
            PLAUDIT_FACEBOOK_APP_ID="sandbox-app",
            PLAUDIT_FACEBOOK_APP_SECRET="sandbox-app-secret",
        )
        configure_environment(url)
        import httpx
        from sqlalchemy import select

        from bench.calls import sync
        from core.settings import get_settings
        from models import Location
        from models.db import session_scope

        recreate_database()
        connection_id = connect_facebook()
        sync(connection_id, "facebook_tagged")  # lists the page (and subscribes it): not timed
        with session_scope() as session:
            page = session.scalars(select(Location)).one()
            page_id, token = page.external_id, page.access_token

        fetch_s, fetch_requests, records = raw_fetch(
            get_settings().facebook_graph_url, page_id, token
        )
        started = time.perf_counter()
        run = sync(connection_id, "facebook_comments")
        sync_s = time.perf_counter() - started
        assert run is not None and run.status == "succeeded", run and run.errors
        httpx.delete(url + "/_admin/requests")
        second = sync(connection_id, "facebook_comments")
        second_requests = httpx.get(url + "/_admin/requests").json()["total"]
    print(
        f"\nfirst sync: {run.written:,} comments (of {records:,} records: the page's own replies "
        f"become replies) in {sync_s:.2f}s = {run.written / sync_s:,.0f} items/s end to end, "
        f"{run.requests} Graph requests\n"
        f"  baseline fetch only (same pages, one keep-alive client): {fetch_s:.2f}s, "
        f"{fetch_requests} requests -> sync/fetch = {sync_s / fetch_s:.2f}x\n"
        f"second sync, nothing new: {second_requests} requests, "
        f"{second.written if second else None} rows written",
        flush=True,
    )


if __name__ == "__main__":
    main()
