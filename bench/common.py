"""Shared set-up for benchmarks: a scratch database, a sandbox in its own process, a grant."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlparse

import httpx
from cryptography.fernet import Fernet

ADMIN_URL = os.environ.get(
    "PLAUDIT_BENCH_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
BENCH_DB = os.environ.get("PLAUDIT_BENCH_DB", "plaudit_bench")


def configure_environment(sandbox_url: str | None = None) -> None:
    """Settings for a benchmark process; call before importing plaudit modules."""
    os.environ.setdefault("PLAUDIT_DATABASE_URL", ADMIN_URL.rsplit("/", 1)[0] + "/" + BENCH_DB)
    os.environ.setdefault("PLAUDIT_BROKER_URL", "stub://")
    os.environ.setdefault("PLAUDIT_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    os.environ.setdefault("PLAUDIT_BLIND_INDEX_KEY", "bench-blind-index")
    os.environ.setdefault("PLAUDIT_JWT_SECRET", "bench-jwt-secret-long-enough-for-hs256")
    os.environ.setdefault("PLAUDIT_GOOGLE_CLIENT_ID", "sandbox-client")
    os.environ.setdefault("PLAUDIT_GOOGLE_CLIENT_SECRET", "sandbox-secret")
    os.environ.setdefault("PLAUDIT_LOG_LEVEL", "WARNING")
    os.environ.setdefault("PLAUDIT_EMAIL_BACKEND", "mailbox")
    # The benches measure plaudit against the sandbox, not Google's per-project quota (300 a
    # minute by default would stop a 100,000-review sync after a minute's worth of pages).
    os.environ.setdefault("PLAUDIT_GOOGLE_REQUESTS_PER_MINUTE", "10000000")
    if sandbox_url:
        from connectors.sandbox.app import base_urls

        for key, value in base_urls(sandbox_url).items():
            os.environ[f"PLAUDIT_{key.upper()}"] = value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def plaudit(*args: str) -> subprocess.Popen[bytes]:
    """A ``plaudit`` command in a child process (its own GIL), output discarded."""
    return subprocess.Popen(
        [sys.executable, "-m", "plaudit.cli", *args],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_api(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Until ``plaudit api`` on ``port`` answers /healthz; exits the bench if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("bench: the API did not start") from None
            time.sleep(0.1)


def recreate_database() -> None:
    from sqlalchemy import create_engine, text

    from models.migrate import upgrade

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
    admin.dispose()
    upgrade()


@contextmanager
def sandbox_process(
    *, locations: int, reviews_per_location: int, port: int, extra_args: tuple[str, ...] = ()
) -> Iterator[str]:
    """The sandbox in a child process, so that it does not share a GIL with what is measured."""
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "connectors.sandbox", "--port", str(port),
            "--locations", str(locations), "--reviews-per-location", str(reviews_per_location),
            *extra_args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                httpx.get(url + "/_admin/locations", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(
                        "bench: the sandbox did not start:\n"
                        + (proc.stdout.read() if proc.stdout else "")
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def connect_google() -> int:
    """An organisation with a Google connection granted through the sandbox's consent page."""
    from connectors.google import oauth
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
            provider="google",
            status=ConnectionStatus.ACTIVE,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            token_expires_at=tokens.expires_at,
            scopes=tokens.scopes,
            capabilities={},
        )
        session.add(connection)
        session.flush()
        return connection.id
