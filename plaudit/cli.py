"""The ``plaudit`` command: every process of the service, and its maintenance tasks."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from core.settings import Settings


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _service_settings() -> Settings:
    """The settings a long-running process starts with, refused or warned about as they need."""
    from core.settings import get_settings

    settings = get_settings()
    if settings.mailbox_on_a_server:
        logging.getLogger("plaudit").warning(
            "PLAUDIT_EMAIL_BACKEND=mailbox outside `plaudit demo`: e-mails are not sent, only "
            "written to %s; use smtp or postmark in production",
            settings.mailbox_path,
        )
    return settings


def cmd_api(args: argparse.Namespace) -> None:
    import uvicorn

    from api.app import create_app
    from api.proxies import uvicorn_proxy_options

    settings = _service_settings()
    uvicorn.run(
        create_app(),
        host=args.host or settings.api_host,
        port=args.port or settings.api_port,
        access_log=False,  # our middleware logs requests without query strings
        **uvicorn_proxy_options(),
    )


def cmd_worker(args: argparse.Namespace) -> None:
    from workers.runner import run_worker

    run_worker(args.threads or _service_settings().worker_threads, _stop_on_signals())


def cmd_scheduler(args: argparse.Namespace) -> None:
    from scheduler.loop import run_forever, tick

    _service_settings()
    if args.once:
        print(tick())
        return
    run_forever(_stop_on_signals())


def cmd_sandbox(args: argparse.Namespace) -> None:
    from connectors.sandbox.cli import main as sandbox_main

    sandbox_main(args.rest)


def cmd_demo(args: argparse.Namespace) -> None:
    from plaudit.demo import run_demo

    run_demo(port=args.port)


def cmd_db(args: argparse.Namespace) -> None:
    from models.migrate import upgrade

    upgrade()
    print("database is at the latest migration")


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from core.audit_chain import verify_chain
    from models.db import get_engine

    with get_engine().connect() as conn:
        report = verify_chain(conn)
    if report.ok:
        print(f"audit log intact: {report.checked} entries chained")
        return 0
    print(
        f"plaudit: audit log tampered: entry {report.broken_at}: {report.reason}",
        file=sys.stderr,
    )
    return 1


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from models.db import session_scope
    from services.privacy.keys import rotate_all
    from workers.privacy import rotate_keys

    if args.background:
        rotate_keys.send()
        print("key rotation enqueued; `plaudit keys status` shows its progress")
        return 0

    def bar(done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = int(share * 30)
        print(f"\r[{'#' * filled}{' ' * (30 - filled)}] {share:4.0%} {done}/{total}", end="",
              file=sys.stderr, flush=True)  # fmt: skip

    with session_scope() as session:
        done = rotate_all(session, progress=bar)
    print(f"\nre-encrypted {done} values under the first configured key")
    return 0


def cmd_keys_status(args: argparse.Namespace) -> int:
    from core import crypto
    from models.db import session_scope
    from services.privacy.keys import key_usage

    ring = crypto.keyring()
    with session_scope() as session:
        usage = key_usage(session)
    in_use = {kid for counts in usage.values() for kid in counts}
    for kid in ring.fernets:
        role = "current" if kid == ring.primary else "old"
        state = "in use" if kid in in_use else "unused: can be retired"
        rows = sum(counts.get(kid, 0) for counts in usage.values())
        print(f"key {kid} ({role}): {rows} values, {state}")
    missing = in_use - set(ring.fernets)
    for kid in sorted(missing):
        print(f"key {kid}: NOT CONFIGURED but used by stored values", file=sys.stderr)
    return 1 if missing else 0


def cmd_privacy(args: argparse.Namespace) -> int:
    import json

    import workers.broker  # noqa: F401  (the workers are sent the request after its commit)
    from models.db import session_scope
    from models.privacy import DataSubjectRequest
    from services.privacy.subject_requests import process, receive

    if args.privacy_command == "overdue":
        from datetime import UTC, datetime

        from sqlalchemy import select

        with session_scope() as session:
            overdue = session.scalars(
                select(DataSubjectRequest)
                .where(DataSubjectRequest.status != "done")
                .where(DataSubjectRequest.due_at < datetime.now(UTC))
                .order_by(DataSubjectRequest.due_at)
            ).all()
            for r in overdue:
                due = f"{r.due_at:%Y-%m-%d}"
                print(f"request {r.id} ({r.kind}) of organisation {r.organisation_id}: due {due}")
        return 1 if overdue else 0
    if (args.email is None) == (args.reviewer_id is None):
        print("plaudit: give exactly one of --email or --reviewer-id", file=sys.stderr)
        return 2
    with session_scope() as session:
        request = receive(
            session,
            organisation_id=args.organisation,
            kind=args.privacy_command.replace("erase", "erasure"),
            email=args.email,
            reviewer_id=args.reviewer_id,
        )
        request_id = request.id
    with session_scope() as session:
        process(session, request_id=request_id)  # here and now; the workers' message finds it done
    with session_scope() as session:
        done = session.get_one(DataSubjectRequest, request_id)
        if args.privacy_command == "export":
            print(done.result)
        else:
            print(json.dumps({"request": request_id, "erased": done.counts}))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plaudit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    api = sub.add_parser("api", help="serve the dashboard API")
    api.add_argument("--host")
    api.add_argument("--port", type=int)
    api.set_defaults(func=cmd_api)
    worker = sub.add_parser("worker", help="run background jobs")
    worker.add_argument("--threads", type=int)
    worker.set_defaults(func=cmd_worker)
    sched = sub.add_parser("scheduler", help="enqueue due syncs and re-enqueue stuck work")
    sched.add_argument("--once", action="store_true", help="one tick, then exit")
    sched.set_defaults(func=cmd_scheduler)
    sandbox = sub.add_parser("sandbox", help="the fake Google and Facebook APIs", add_help=False)
    sandbox.add_argument("rest", nargs=argparse.REMAINDER)
    sandbox.set_defaults(func=cmd_sandbox)
    demo = sub.add_parser("demo", help="everything in one process on embedded defaults")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=cmd_demo)
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db)
    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser("verify", help="check the hash chain").set_defaults(func=cmd_audit_verify)
    keys = sub.add_parser("keys", help="encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_sub.add_parser("rotate", help="re-encrypt everything under the first key")
    rotate.add_argument("--background", action="store_true", help="let the workers do it")
    rotate.set_defaults(func=cmd_keys_rotate)
    keys_sub.add_parser("status", help="values per key").set_defaults(func=cmd_keys_status)
    privacy = sub.add_parser("privacy", help="data-subject requests")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    for name, what in (("export", "print everything held about a person as JSON"),
                       ("erase", "erase a person everywhere")):  # fmt: skip
        command = privacy_sub.add_parser(name, help=what)
        command.add_argument("--organisation", type=int, required=True)
        command.add_argument("--email")
        command.add_argument("--reviewer-id")
        command.set_defaults(func=cmd_privacy)
    privacy_sub.add_parser("overdue", help="requests past their due date").set_defaults(
        func=cmd_privacy
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sqlalchemy.exc import OperationalError

    from core.logs import setup_logging

    try:
        if args.command != "demo":
            setup_logging()
        code = args.func(args)
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"plaudit: configuration error: {first['msg']}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unreachable"
        print(f"plaudit: cannot reach the database: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
