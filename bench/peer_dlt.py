"""Benchmark: plaudit's first sync and resync of Google reviews against the peer a data engineer
would pick — dlt's `rest_api` source into PostgreSQL — and against the limits, in one run.

Every round syncs the same sandbox data four ways, in alternating order:
- **dlt** 1.x `rest_api` → PostgreSQL: one resource per location on `reviews.list`, paged by
  `nextPageToken`, merged on `reviewId`, incremental on `updateTime` (dlt runs in an
  environment of its own under `bench/.dlt-venv`, created on first use; it is not a dependency
  of plaudit);
- **plaudit**: the real worker path (`workers.sync.sync`) into the real `items` table;
- **fetch only**: the same pages with one keep-alive client and no processing;
- **raw insert**: the same rows, one `INSERT … ON CONFLICT` per page into a copy of `items`
  with all its indexes.
Then a resync with nothing new by dlt and by plaudit. Three rounds; medians and the load
average are printed. Last, the worker's resident memory syncing one location of 1,000 and of
10,000 reviews (each in a process of its own): flat in the location's size.

    .venv/bin/python bench/peer_dlt.py [--locations 100] [--reviews 1000] [--rounds 3]
        [--port PORT] [--memory 1000,10000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ADMIN_URL,
    BENCH_DB,
    configure_environment,
    connect_google,
    free_port,
    recreate_database,
    sandbox_process,
)
from bench.sync_google import memory, raw_fetch, raw_insert

DLT_VERSION = "1.31.0"
DLT_VENV = Path(__file__).resolve().parent / ".dlt-venv"
PEER_DB = f"{BENCH_DB}_dlt"

# Runs inside dlt's own environment; arguments arrive as JSON on stdin.
PIPELINE = r"""
import json, sys, time
import dlt
from dlt.sources.rest_api import rest_api_source

args = json.load(sys.stdin)
resources = [
    {
        "name": f"reviews_{n}",
        "table_name": "reviews",
        "primary_key": "reviewId",
        "write_disposition": "merge",
        "endpoint": {
            "path": f"{location}/reviews",
            "params": {"pageSize": 50, "orderBy": "updateTime desc"},
            "data_selector": "reviews",
            "paginator": {
                "type": "cursor",
                "cursor_path": "nextPageToken",
                "cursor_param": "pageToken",
            },
            "incremental": {"cursor_path": "updateTime", "initial_value": "1970-01-01T00:00:00Z"},
        },
    }
    for n, location in enumerate(args["locations"])
]
source = rest_api_source(
    {
        "client": {
            "base_url": args["base_url"],
            "auth": {"type": "bearer", "token": args["token"]},
        },
        "resources": resources,
    }
)
pipeline = dlt.pipeline(
    pipeline_name="plaudit_peer",
    destination=dlt.destinations.postgres(args["dsn"]),
    dataset_name="peer",
    pipelines_dir=args["pipelines_dir"],
)
started = time.perf_counter()
info = pipeline.run(source)
elapsed = time.perf_counter() - started
rows = pipeline.last_trace.last_normalize_info.row_counts.get("reviews", 0)
print(json.dumps({"seconds": elapsed, "rows": rows}))
"""


def dlt_python() -> Path:
    python = DLT_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating dlt's environment in {DLT_VENV} (dlt {DLT_VERSION}) …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"dlt[postgres]=={DLT_VERSION}"],
            check=True,
        )
    return python


def _admin_sql(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def run_dlt(python: Path, *, url: str, token: str, locations: list[str], fresh: bool) -> dict:
    """One `pipeline.run`; `fresh` starts from an empty database and no pipeline state."""
    pipelines_dir = DLT_VENV.parent / ".dlt-pipelines"
    if fresh:
        _admin_sql(f'DROP DATABASE IF EXISTS "{PEER_DB}" WITH (FORCE)')
        _admin_sql(f'CREATE DATABASE "{PEER_DB}"')
        subprocess.run(["rm", "-rf", str(pipelines_dir)], check=True)
    dsn = ADMIN_URL.replace("postgresql+psycopg2://", "postgresql://").rsplit("/", 1)[0]
    if "@" in dsn and ":" not in dsn.split("//", 1)[1].split("@", 1)[0]:
        dsn = dsn.replace("@", ":unused-under-trust-auth@", 1)  # dlt insists on a password
    arguments = {
        "base_url": f"{url}/mybusiness/v4/",
        "token": token,
        "locations": locations,
        "dsn": f"{dsn}/{PEER_DB}",
        "pipelines_dir": str(pipelines_dir),
    }
    env = {**os.environ, "RUNTIME__LOG_LEVEL": "WARNING", "DLT_TELEMETRY_DISABLED": "1"}
    requests_before = _review_requests(url)
    out = subprocess.run(
        [str(python), "-c", PIPELINE],
        input=json.dumps(arguments), capture_output=True, text=True, env=env,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit("bench: dlt failed:\n" + out.stderr[-3000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["requests"] = _review_requests(url) - requests_before
    return result


def _review_requests(url: str) -> int:
    import httpx

    return httpx.get(url + "/_admin/requests", params={"path": "/reviews$"}).json()["total"]


def run_plaudit(connection_id: int, url: str) -> dict:
    from bench.calls import sync

    requests_before = _review_requests(url)
    started = time.perf_counter()
    run = sync(connection_id, "google_reviews")
    elapsed = time.perf_counter() - started
    assert run is not None and run.status == "succeeded", run and run.errors
    return {
        "seconds": elapsed,
        "rows": run.written,
        "requests": _review_requests(url) - requests_before,
    }


def _forget_items(connection_id: int) -> None:
    """Back to before the first sync: no items, no checkpoints."""
    from sqlalchemy import text

    from models.db import get_engine, session_scope

    with session_scope() as session:
        session.execute(text("DELETE FROM items WHERE connection_id = :c"), {"c": connection_id})
        session.execute(
            text(
                "DELETE FROM checkpoints WHERE location_id IN"
                " (SELECT id FROM locations WHERE connection_id = :c)"
            ),
            {"c": connection_id},
        )
    # Dead rows of the last round would slow this one's inserts: every round starts alike.
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM items")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=100)
    parser.add_argument("--reviews", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, help="the sandbox's port (default: a free one)")
    parser.add_argument(
        "--memory", default="1000,10000", help="location sizes for the memory runs ('' for none)"
    )
    args = parser.parse_args()
    python = dlt_python()
    total = args.locations * args.reviews
    port = args.port or free_port()
    print(f"seeding the sandbox: {args.locations} locations x {args.reviews} reviews …", flush=True)
    with sandbox_process(
        locations=args.locations, reviews_per_location=args.reviews, port=port
    ) as url:
        configure_environment(url)
        import httpx

        from models import Connection
        from models.db import session_scope

        recreate_database()
        connection_id = connect_google()
        with session_scope() as session:
            token = session.get(Connection, connection_id).access_token
        locations = [
            loc["name"] for loc in httpx.get(url + "/_admin/locations").json()["locations"]
        ]
        figures: dict[str, list[float]] = {}
        requests: dict[str, int] = {}
        rows: dict[str, int] = {}

        def record(name: str, result: dict) -> None:
            figures.setdefault(name, []).append(result["seconds"])
            requests[name], rows[name] = result.get("requests", 0), result.get("rows", 0)
            print(f"  {name:<22} {result['seconds']:7.2f} s", flush=True)

        for n in range(args.rounds):
            print(f"round {n + 1} (load average {os.getloadavg()[0]:.1f})", flush=True)
            order = ["dlt", "plaudit", "limits"] if n % 2 == 0 else ["limits", "plaudit", "dlt"]
            for who in order:
                if who == "dlt":
                    record(
                        "dlt first sync",
                        run_dlt(python, url=url, token=token, locations=locations, fresh=True),
                    )
                    record(
                        "dlt resync",
                        run_dlt(python, url=url, token=token, locations=locations, fresh=False),
                    )
                elif who == "plaudit":
                    _forget_items(connection_id)
                    record("plaudit first sync", run_plaudit(connection_id, url))
                    record("plaudit resync", run_plaudit(connection_id, url))
                else:
                    fetch_s, pages = raw_fetch(url, token)
                    record("limit: fetch only", {"seconds": fetch_s})
                    record("limit: raw insert", {"seconds": raw_insert(pages)})
                    del pages  # fmt: skip

    median = {name: statistics.median(values) for name, values in figures.items()}
    limit = median["limit: fetch only"] + median["limit: raw insert"]
    print(
        f"\n{total:,} reviews, {args.rounds} rounds, medians "
        f"(load average now {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores):"
    )
    for name in ("dlt first sync", "plaudit first sync"):
        print(
            f"  {name:<20} {median[name]:7.2f} s = {total / median[name]:8,.0f} reviews/s, "
            f"{requests[name]:,} requests, {rows[name]:,} rows written"
        )
    for name in ("dlt resync", "plaudit resync"):
        print(
            f"  {name:<20} {median[name]:7.2f} s, {requests[name]:,} requests, "
            f"{rows[name]:,} rows written"
        )
    print(
        f"  limit (fetch {median['limit: fetch only']:.2f} s + raw insert "
        f"{median['limit: raw insert']:.2f} s) = {limit:.2f} s"
    )
    speed = median["dlt first sync"] / median["plaudit first sync"]
    print(f"plaudit / dlt first-sync speed: {speed:.2f}x (target ≥ 2)")
    to_limit = median["plaudit first sync"] / limit
    print(f"plaudit first sync / its limit: {to_limit:.2f}x (target ≤ 1.3)", flush=True)
    if args.port:
        os.environ["PLAUDIT_BENCH_SANDBOX_PORT"] = str(args.port)
    for reviews in [int(n) for n in args.memory.split(",") if n]:
        used = memory(reviews)
        print(
            f"worker memory, one location of {reviews:,} reviews: "
            f"{used['before_kib'] / 1024:.0f} MiB before, peak {used['peak_kib'] / 1024:.0f} MiB "
            f"(+{(used['peak_kib'] - used['before_kib']) / 1024:.1f} during its sync)",
            flush=True,
        )


if __name__ == "__main__":
    main()
