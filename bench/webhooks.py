"""Benchmark: a burst of 10,000 signed Facebook webhook events.

Runs `plaudit api` and two `plaudit worker` processes on Redis against a scratch database, posts
10,000 signed comment events (one delivery each, from several keep-alive clients at once), and
prints the events/s the API accepted (signature checked, handed to the broker) and the time
until every comment was in the inbox.

    .venv/bin/python bench/webhooks.py [--events 10000] [--clients 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    configure_environment,
    free_port,
    plaudit,
    recreate_database,
    sandbox_process,
    wait_for_api,
)
from bench.sync_facebook import connect_facebook

SECRET = "sandbox-app-secret"


def events(page_id: str, count: int) -> list[tuple[bytes, dict[str, str]]]:
    from connectors.sandbox.facebook_webhooks import signed

    now = int(time.time())
    out = []
    for n in range(count):
        change = {
            "field": "feed",
            "value": {
                "item": "comment",
                "verb": "add",
                "comment_id": f"bench_{n}",
                "post_id": f"{page_id}_1",
                "parent_id": f"{page_id}_1",
                "from": {"id": str(10**14 + n), "name": f"Burst {n}"},
                "message": f"Comment number {n} 🎉",
                "created_time": now,
            },
        }
        payload = {"object": "page", "entry": [{"id": page_id, "time": now, "changes": [change]}]}
        out.append(signed(payload, SECRET))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    extra = ("--facebook-pages", "1", "--posts-per-page", "1", "--comments-per-post", "1")
    with sandbox_process(
        locations=1, reviews_per_location=1, port=free_port(), extra_args=extra
    ) as url:
        os.environ.update(
            PLAUDIT_FACEBOOK_APP_ID="sandbox-app",
            PLAUDIT_FACEBOOK_APP_SECRET=SECRET,
            PLAUDIT_BROKER_URL=os.environ.get(
                "PLAUDIT_BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"
            ),
            PLAUDIT_BROKER_NAMESPACE=f"bench-{uuid.uuid4().hex[:8]}",
        )
        configure_environment(url)
        import httpx
        from sqlalchemy import func, select

        from bench.calls import sync
        from models import Item, Location
        from models.db import session_scope
        from workers.broker import broker

        recreate_database()
        connection_id = connect_facebook()
        sync(connection_id, "facebook_tagged")  # lists the page
        with session_scope() as session:
            page_id = session.scalars(select(Location.external_id)).one()
        bodies = events(page_id, args.events)

        port = free_port()
        processes = [plaudit("api", "--port", str(port))]
        processes += [plaudit("worker", "--threads", "4") for _ in range(args.workers)]
        endpoint = f"http://127.0.0.1:{port}/api/v1/webhooks/facebook"
        try:
            wait_for_api(port, processes[0])

            def post(chunk: list[tuple[bytes, dict[str, str]]]) -> int:
                refused = 0
                with httpx.Client(timeout=30) as client:
                    for body, headers in chunk:
                        refused += (
                            client.post(endpoint, content=body, headers=headers).status_code != 200
                        )
                return refused

            chunks = [bodies[i :: args.clients] for i in range(args.clients)]
            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                refused = sum(pool.map(post, chunks))
            accepted_s = time.perf_counter() - started

            def stored() -> int:
                with session_scope() as session:
                    query = select(func.count()).select_from(Item)
                    return session.scalar(query.where(Item.external_id.like("bench\\_%")))

            while stored() < args.events:
                if time.perf_counter() - started > 600:
                    raise SystemExit(f"bench: only {stored()} of {args.events} stored in 10 min")
                time.sleep(0.05)
            inbox_s = time.perf_counter() - started
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
            broker.flush_all()
    print(
        f"\nwebhook burst: {args.events:,} signed events from {args.clients} clients, "
        f"{refused} refused\n"
        f"  accepted in {accepted_s:.2f}s = {args.events / accepted_s:,.0f} events/s "
        f"(signature checked, handed to the broker)\n"
        f"  all in the inbox after {inbox_s:.2f}s ({args.workers} workers x 4 threads) "
        f"= {args.events / inbox_s:,.0f} events/s end to end",
        flush=True,
    )


if __name__ == "__main__":
    main()
