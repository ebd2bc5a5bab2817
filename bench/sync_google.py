"""Benchmark: sync Google reviews from the sandbox into PostgreSQL.

Prints, in one run: reviews/s end to end; the time to only fetch the same pages from the sandbox
and a raw bulk ``INSERT … ON CONFLICT`` of the same rows, with the sync's ratio to their sum
(target ≤ 1.5); a second sync with nothing new (target: one request per location, no writes);
and the worker's peak memory syncing one location of 10,000 and of 100,000 reviews (target: flat).

    .venv/bin/python bench/sync_google.py [--locations 100] [--reviews 1000] [--big 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    configure_environment,
    connect_google,
    free_port,
    recreate_database,
    sandbox_process,
)


def raw_fetch(sandbox_url: str, token: str) -> tuple[float, list[list[dict]]]:
    """Every page of every location with one keep-alive client and no processing."""
    import requests

    from connectors.google.reviews import GoogleReviews

    locations = requests.get(sandbox_url + "/_admin/locations", timeout=30).json()["locations"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    stream = GoogleReviews(client=None)  # type: ignore[arg-type]
    pages: list[list[dict]] = []
    started = time.perf_counter()
    for location in locations:
        params = stream.params()
        while True:
            body = session.get(
                f"{sandbox_url}/mybusiness/{stream.path(location['name'])}",
                params=params,
                timeout=30,
            ).json()
            pages.append(body.get("reviews", []))
            if "nextPageToken" not in body:
                break
            params = {**stream.params(), "pageToken": body["nextPageToken"]}
    return time.perf_counter() - started, pages


def raw_insert(pages: list[list[dict]]) -> float:
    """The same rows, one multi-row INSERT … ON CONFLICT per page with a commit, in psycopg2."""
    import psycopg2
    from psycopg2.extras import execute_values

    from connectors.google.reviews import GoogleReviews
    from core.settings import get_settings

    parse = GoogleReviews(client=None).parse  # type: ignore[arg-type]
    rows = [
        [
            (1, r.external_id, "google", "review", r.author_name, r.author_anonymous, r.rating,
             r.text, r.original_text,
             r.posted_at, r.provider_updated_at, r.reply_text, r.reply_updated_at)
            for r in map(parse, page)
        ]
        for page in pages
    ]  # fmt: skip
    dsn = get_settings().database_url.replace("postgresql+psycopg2://", "postgresql://")
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_items")
        cur.execute("CREATE TABLE bench_items (LIKE items INCLUDING ALL)")
    sql = (
        "INSERT INTO bench_items (connection_id, external_id, source, kind, author_name, "
        "author_anonymous, rating, "
        "text, original_text, posted_at, provider_updated_at, reply_text, reply_updated_at, "
        "organisation_id) VALUES %s ON CONFLICT (connection_id, external_id) DO UPDATE SET "
        "text = excluded.text"
    )
    template = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1)"
    started = time.perf_counter()
    with conn.cursor() as cur:
        for page in rows:
            execute_values(cur, sql, page, template=template, page_size=len(page) or 1)
            conn.commit()
    elapsed = time.perf_counter() - started
    with conn, conn.cursor() as cur:
        cur.execute("DROP TABLE bench_items")
    conn.close()
    return elapsed


def main_benchmark(locations: int, reviews: int) -> dict:
    port = free_port()
    print(f"seeding the sandbox: {locations} locations x {reviews} reviews …", flush=True)
    with sandbox_process(locations=locations, reviews_per_location=reviews, port=port) as url:
        configure_environment(url)
        import httpx

        from bench.calls import sync
        from models import Connection
        from models.db import session_scope

        recreate_database()
        connection_id = connect_google()
        with session_scope() as session:
            token = session.get(Connection, connection_id).access_token
        total = locations * reviews

        fetch_s, pages = raw_fetch(url, token)
        insert_s = raw_insert(pages)
        del pages

        started = time.perf_counter()
        run = sync(connection_id, "google_reviews")
        sync_s = time.perf_counter() - started
        assert run is not None and run.status == "succeeded", run and run.errors
        assert run.written == total, (run.written, total)

        httpx.delete(url + "/_admin/requests")
        second = sync(connection_id, "google_reviews")
        counts = httpx.get(url + "/_admin/requests", params={"path": "/reviews$"}).json()
    return {
        "reviews": total,
        "sync_s": sync_s,
        "reviews_per_s": total / sync_s,
        "fetch_s": fetch_s,
        "insert_s": insert_s,
        "ratio_to_fetch": sync_s / fetch_s,
        "ratio_to_fetch_plus_insert": sync_s / (fetch_s + insert_s),
        "second_sync_review_requests": counts["total"],
        "second_sync_rows_written": second.written if second else None,
        "locations": locations,
    }


def current_rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() // 1024


def memory_child(reviews: int) -> None:
    """Runs in its own process: resident memory sampled while one location's first sync runs."""
    import threading

    port = int(os.environ.get("PLAUDIT_BENCH_SANDBOX_PORT") or free_port())
    with sandbox_process(locations=1, reviews_per_location=reviews, port=port) as url:
        configure_environment(url)
        from bench.calls import sync

        recreate_database()
        connection_id = connect_google()
        before = current_rss_kib()
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.01):
                peak = max(peak, current_rss_kib())

        sampler = threading.Thread(target=sample)
        sampler.start()
        run = sync(connection_id, "google_reviews")
        done.set()
        sampler.join()
        assert run is not None and run.written == reviews, run and (run.written, run.errors)
    print(json.dumps({"reviews": reviews, "before_kib": before, "peak_kib": peak}))


def memory(reviews: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(reviews)],
        capture_output=True, text=True, check=True, env=os.environ,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--locations", type=int, default=100)
    parser.add_argument("--reviews", type=int, default=1000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--memory-child", type=int)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child)
        return
    result = main_benchmark(args.locations, args.reviews)
    print(
        f"\nfirst sync: {result['reviews']:,} reviews in {result['sync_s']:.2f}s "
        f"= {result['reviews_per_s']:,.0f} reviews/s end to end\n"
        f"  baseline fetch only (same pages, one keep-alive client): {result['fetch_s']:.2f}s "
        f"-> sync/fetch = {result['ratio_to_fetch']:.2f}x\n"
        f"  baseline raw INSERT … ON CONFLICT per page (psycopg2): {result['insert_s']:.2f}s\n"
        f"  sync / (fetch + insert) = {result['ratio_to_fetch_plus_insert']:.2f}x (target 1.5)\n"
        f"second sync, nothing new: {result['second_sync_review_requests']} review requests for "
        f"{result['locations']} locations, {result['second_sync_rows_written']} rows written "
        f"(target: {result['locations']} and 0)",
        flush=True,
    )
    small, big = memory(args.big // 10), memory(args.big)
    growth_small = (small["peak_kib"] - small["before_kib"]) / 1024
    growth_big = (big["peak_kib"] - big["before_kib"]) / 1024
    print(
        f"worker peak memory, one location: {small['reviews']:,} reviews -> "
        f"{small['peak_kib'] / 1024:.0f} MiB (+{growth_small:.1f} during sync); "
        f"{big['reviews']:,} reviews -> {big['peak_kib'] / 1024:.0f} MiB "
        f"(+{growth_big:.1f} during sync)"
    )


if __name__ == "__main__":
    main()
