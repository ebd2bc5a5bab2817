"""Benchmark: how syncing scales out with `plaudit worker` processes on RabbitMQ.

The sandbox answers every request after 150 ms (the order of the real providers' latency), and
a round asks for a resync of every connection at once (by default 40 connections × 10 locations
= 400 locations). For 1, 2 and 4 worker processes it prints syncs per second and provider
requests per second; the baseline is one worker in the same run, and the target is ≥ 0.8×
linear from 1 to 4. The order of worker counts alternates between rounds; medians.

Each round also prints the CPU seconds used by the workers, the sandbox, PostgreSQL's backends
of the bench's database and the bench itself (``bench/cpu.py``, from /proc), what the rest of
the machine used, its busy share, and the bound the latency alone puts on syncs/s (a sync
reads its locations one after another, a thread runs one sync), so that a shortfall says
whether the cores, the shape of the work or the workers hold it back.

The workers use a RabbitMQ virtual host of their own (created with `rabbitmqctl`), so a test
run on the same broker never sees their messages.

    .venv/bin/python bench/scale.py [--connections 40] [--locations 10] [--rounds 3]
        [--vhost plaudit-bench-scale]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import cpu
from bench.common import (
    configure_environment,
    connect_google,
    free_port,
    recreate_database,
    sandbox_process,
)

VHOST = "plaudit-bench-scale"
LATENCY_S = 0.15
THREADS = 8


def _vhost_url(vhost: str) -> str:
    if shutil.which("rabbitmqctl") is None:
        raise SystemExit("bench: rabbitmqctl is missing (Debian's rabbitmq-server provides it)")
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_vhosts"], capture_output=True, text=True, check=True
    ).stdout.split()
    if vhost not in listed:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True)
        subprocess.run(
            ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
        )
    return f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


def _twins(first_id: int, count: int) -> list[int]:
    """More organisations, each with a connection on the same Google grant."""
    from models import Connection
    from models.db import session_scope
    from tests.fixtures import google_twin

    with session_scope() as session:
        first = session.get(Connection, first_id)
        names = [f"Scale {n}" for n in range(1, count)]
        twins = [google_twin(session, first, organisation_name=name) for name in names]
        return [first_id, *(twin.id for twin in twins)]


def _finished_runs() -> int:
    from sqlalchemy import func, select

    from models import SyncRun
    from models.db import session_scope

    with session_scope() as session:
        return session.scalar(
            select(func.count(SyncRun.id)).where(SyncRun.finished_at.is_not(None))
        )


def _requests(url: str) -> int:
    import httpx

    return httpx.get(url + "/_admin/requests").json()["total"]


def _sandbox_pids() -> list[int]:
    """The sandbox this bench started (a child process of ours)."""
    return [
        pid
        for pid in cpu.children(os.getpid())
        if b"connectors.sandbox" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]


def _backend_pids() -> list[int]:
    """PostgreSQL's backends serving the bench's database (other databases on the same server,
    other people's tests, are not the bench's; they show in the machine's figure)."""
    from sqlalchemy import text

    from models.db import session_scope

    with session_scope() as session:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        return list(session.scalars(text(query)))


def _round(workers: int, connection_ids: list[int], url: str, broker_url: str) -> dict:
    import dramatiq

    from workers.broker import make_broker

    env = {**os.environ, "PLAUDIT_BROKER_URL": broker_url}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "plaudit.cli", "worker", "--threads", str(THREADS)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    broker = make_broker(broker_url)
    try:
        # A first sync each, to warm the processes up (imports, connections, tokens)
        before_runs, started = _finished_runs(), time.perf_counter()
        for connection_id in connection_ids[:workers]:
            _send(broker, dramatiq, connection_id)
        _wait_until(lambda: _finished_runs() >= before_runs + workers, processes)

        meter = cpu.Meter(
            {
                "workers": lambda: [p.pid for p in processes],
                "sandbox": _sandbox_pids,
                "postgres": _backend_pids,
                "driver": lambda: [os.getpid()],
            }
        )
        before_runs, before_requests = _finished_runs(), _requests(url)
        meter.start()
        started = time.perf_counter()
        for connection_id in connection_ids:
            _send(broker, dramatiq, connection_id)
        _wait_until(lambda: _finished_runs() >= before_runs + len(connection_ids), processes)
        elapsed = time.perf_counter() - started
        usage = meter.stop()
        requests = _requests(url) - before_requests
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        broker.close()
    per_sync = usage.seconds["workers"] * 1000 / len(connection_ids)
    return {"seconds": elapsed, "syncs_per_s": len(connection_ids) / elapsed,
            "requests_per_s": requests / elapsed, "usage": usage,
            "worker_ms_per_sync": per_sync}  # fmt: skip


def _cpu_line(result: dict) -> str:
    usage: cpu.Usage = result["usage"]
    groups = ", ".join(f"{name} {seconds:.1f}" for name, seconds in usage.seconds.items())
    return (f"CPU s: {groups}, other processes {usage.others:.1f}; machine "
            f"{usage.busy_share * 100:.0f} % busy of {os.cpu_count()} cores; "
            f"{result['worker_ms_per_sync']:.0f} worker CPU ms a sync")  # fmt: skip


def _send(broker, dramatiq, connection_id: int) -> None:
    broker.enqueue(
        dramatiq.Message(
            queue_name="default",
            actor_name="sync.capability",
            args=(connection_id, "google_reviews"),
            kwargs={},
            options={},
        )
    )


def _wait_until(condition, processes: list[subprocess.Popen[bytes]], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if any(p.poll() is not None for p in processes):
            raise SystemExit("bench: a worker exited")
        if time.monotonic() > deadline:
            raise SystemExit("bench: the syncs did not finish in time")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--locations", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--vhost", default=VHOST, help="RabbitMQ virtual host of the bench's own")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    broker_url = _vhost_url(args.vhost)
    port = free_port()
    with sandbox_process(locations=args.locations, reviews_per_location=20, port=port) as url:
        configure_environment(url)
        import httpx

        recreate_database()
        connection_ids = _twins(connect_google(), args.connections)
        from bench.calls import sync

        for connection_id in connection_ids:  # found their locations: every round is a resync
            sync(connection_id, "google_reviews")
        httpx.post(
            url + "/_admin/faults", json={"path": ".*", "delay": LATENCY_S, "times": -1}
        ).raise_for_status()
        figures: dict[int, list[dict]] = {n: [] for n in counts}
        for n in range(args.rounds):
            order = counts if n % 2 == 0 else list(reversed(counts))
            print(f"round {n + 1} (load average {os.getloadavg()[0]:.1f})", flush=True)
            for workers in order:
                result = _round(workers, connection_ids, url, broker_url)
                figures[workers].append(result)
                print(f"  {workers} worker(s): {result['syncs_per_s']:.2f} syncs/s, "
                      f"{result['requests_per_s']:.1f} requests/s in {result['seconds']:.1f}s; "
                      f"{_cpu_line(result)}", flush=True)  # fmt: skip

    locations = args.connections * args.locations
    print(f"\n{args.connections} connections × {args.locations} locations = {locations} "
          f"locations a round, {LATENCY_S * 1000:.0f} ms a request, {THREADS} threads a "
          f"worker; medians of {args.rounds} rounds (load average now "
          f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} cores):")  # fmt: skip
    # What the latency alone allows: a sync reads its locations one after another, and each
    # thread runs one sync, so a round takes ceil(syncs / threads) of those in a row at best.
    print(f"  (latency bound: {args.locations} × {LATENCY_S * 1000:.0f} ms a sync, "
          f"ceil({args.connections} / threads) syncs in a row)")  # fmt: skip
    base = statistics.median(r["syncs_per_s"] for r in figures[counts[0]])
    for workers in counts:
        syncs = statistics.median(r["syncs_per_s"] for r in figures[workers])
        requests = statistics.median(r["requests_per_s"] for r in figures[workers])
        scaling = syncs / (base * workers / counts[0])
        busy = statistics.median(r["usage"].busy_share for r in figures[workers])
        per_sync = statistics.median(r["worker_ms_per_sync"] for r in figures[workers])
        waves = math.ceil(args.connections / (workers * THREADS))
        bound = args.connections / (waves * args.locations * LATENCY_S)
        print(f"  {workers} worker(s): {syncs:6.2f} syncs/s, {requests:7.1f} provider "
              f"requests/s, {scaling:.2f}× linear; machine {busy * 100:.0f} % busy, "
              f"{per_sync:.0f} worker CPU ms a sync; latency bound {bound:.2f} syncs/s "
              f"({syncs / bound:.2f} of it)")  # fmt: skip
    print("target: ≥ 0.80× linear from 1 to 4 workers")


if __name__ == "__main__":
    main()
