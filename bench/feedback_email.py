"""Benchmark: 10,000 feedback requests through the SMTP back-end to a local SMTP server.

Prints, in one run: messages/s end to end (recipients uploaded, requests queued by the feedback
sender, sent by dramatiq worker threads through the outbox to SMTP, each recorded as sent) beside
raw ``smtplib`` sending the same 10,000 composed messages to the same server over one connection.
The server (aiosmtpd, discarding what it receives) runs in its own process.

    .venv/bin/python bench/feedback_email.py [--messages 10000] [--threads 4]
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# A database of its own, so that it can run beside the other benchmarks.
os.environ.setdefault("PLAUDIT_BENCH_DB", "plaudit_bench_email")

from bench.common import configure_environment, free_port, recreate_database


def smtp_server(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("bench: the SMTP server did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    port = free_port()
    server = smtp_server(port)
    configure_environment()
    os.environ.update(
        {
            "PLAUDIT_EMAIL_BACKEND": "smtp",
            "PLAUDIT_SMTP_HOST": "127.0.0.1",
            "PLAUDIT_SMTP_PORT": str(port),
            "PLAUDIT_SMTP_SECURITY": "none",
            "PLAUDIT_FEEDBACK_HOURLY_LIMIT": str(args.messages * 2),
            "PLAUDIT_MAIL_FROM": "Bench <bench@plaudit.test>",
        }
    )
    try:
        recreate_database()
        run(args.messages, args.threads, port)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(count: int, threads: int, port: int) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from bench.calls import send_due_requests
    from models import Campaign, EmailMessage, EmailStatus, Organisation, Role
    from models.db import session_scope
    from services.email.delivery import compose_message
    from services.feedback.campaigns import NewRecipient, add_recipients
    from services.scope import Scope
    from workers.runner import start_worker

    rows = [
        NewRecipient(line=i + 1, name=f"Customer {i}", email=f"customer{i}@example.com")
        for i in range(count)
    ]

    def sent() -> int:
        with session_scope() as session:
            return session.scalar(
                select(func.count())
                .select_from(EmailMessage)
                .where(EmailMessage.status.in_([EmailStatus.SENT, EmailStatus.FAILED]))
            )

    worker = start_worker(threads)
    try:
        started = time.perf_counter()
        with session_scope() as session:
            organisation = Organisation(name="Bench Café")
            session.add(organisation)
            session.flush()
            campaign = Campaign(organisation_id=organisation.id, name="Bench")
            session.add(campaign)
            session.flush()
            owner = Scope(organisation_id=organisation.id, role=Role.OWNER, user_id=0)
            upload = add_recipients(session, scope=owner, campaign=campaign, rows=rows)
        assert upload.accepted == count, upload
        uploaded = time.perf_counter()
        while send_due_requests(datetime.now(UTC)):
            pass
        queued = time.perf_counter()
        while sent() < count:
            time.sleep(0.05)
        finished = time.perf_counter()
    finally:
        worker.stop()
    with session_scope() as session:
        failed = session.scalar(
            select(func.count()).where(EmailMessage.status == EmailStatus.FAILED)
        )
        messages = [compose_message(session, m) for m in session.scalars(select(EmailMessage))]
    end_to_end = finished - started
    print(
        f"end to end: {count:,} feedback requests in {end_to_end:.2f}s "
        f"= {count / end_to_end:,.0f} messages/s ({threads} worker threads, {failed} failed)"
    )
    print(
        f"  upload {uploaded - started:.2f}s, queue {queued - uploaded:.2f}s, "
        f"send {finished - queued:.2f}s = {count / (finished - queued):,.0f} messages/s"
    )

    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for message in messages:
            smtp.send_message(message)
    raw = time.perf_counter() - started
    print(
        f"baseline raw smtplib, same {count:,} messages, one connection: {raw:.2f}s "
        f"= {count / raw:,.0f} messages/s"
    )
    print(f"end to end / raw smtplib = {end_to_end / raw:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
