"""`plaudit demo`: the whole service in one process on embedded defaults.

Embedded PostgreSQL (pgserver), an in-process broker and worker, the scheduler, the API and the
provider sandbox; a demo organisation connected to the sandbox through the real OAuth flow.
Data and generated keys live in the data folder, so a second start picks up where it left off.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from core import crypto

DEMO_EMAIL = "owner@demo.plaudit.example"
DEMO_PASSWORD = "demo-password-123"


def _secrets(data_dir: Path) -> dict[str, str]:
    """Generated once and kept beside the data they protect, readable by the owner only."""
    path = data_dir / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    secrets = {
        "encryption_keys": crypto.new_key(),
        "blind_index_key": os.urandom(32).hex(),
        "jwt_secret": os.urandom(32).hex(),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(secrets, handle)
    return secrets


def _embedded_postgres(data_dir: Path) -> tuple[Any, str]:
    import pgserver

    server = pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'plaudit';")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE plaudit;")
    uri = server.get_uri("plaudit").replace("postgresql://", "postgresql+psycopg2://", 1)
    return server, uri


def _configure(data_dir: Path, database_url: str, sandbox_urls: dict[str, str], port: int) -> None:
    from connectors.sandbox.facebook_state import APP_ID, APP_SECRET
    from core.settings import reset_settings

    secrets = _secrets(data_dir)
    env = {
        "PLAUDIT_EMBEDDED": "1",
        "PLAUDIT_DATABASE_URL": database_url,
        "PLAUDIT_BROKER_URL": "stub://",
        "PLAUDIT_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PLAUDIT_ENCRYPTION_KEYS": secrets["encryption_keys"],
        "PLAUDIT_BLIND_INDEX_KEY": secrets["blind_index_key"],
        "PLAUDIT_JWT_SECRET": secrets["jwt_secret"],
        "PLAUDIT_GOOGLE_CLIENT_ID": "sandbox-client",
        "PLAUDIT_GOOGLE_CLIENT_SECRET": "sandbox-secret",
        "PLAUDIT_FACEBOOK_APP_ID": APP_ID,
        "PLAUDIT_FACEBOOK_APP_SECRET": APP_SECRET,
        # The last version that still serves ratings, so the demo shows recommendations too.
        "PLAUDIT_FACEBOOK_GRAPH_VERSION": "v21.0",
        "PLAUDIT_QANDA_ENABLED": "true",
        "PLAUDIT_SYNC_INTERVAL_SECONDS": os.environ.get("PLAUDIT_SYNC_INTERVAL_SECONDS", "60"),
        "PLAUDIT_SCHEDULER_TICK_SECONDS": os.environ.get("PLAUDIT_SCHEDULER_TICK_SECONDS", "2"),
    }
    env.update({f"PLAUDIT_{key.upper()}": value for key, value in sandbox_urls.items()})
    os.environ.update(env)
    reset_settings()
    crypto.reset_keys()


def _seed(api: str) -> str:
    """Create the demo owner and connect Google and Facebook through the sandbox's consent
    pages, unless a previous start already did. Returns a ready access token."""
    with httpx.Client(base_url=api, timeout=30, follow_redirects=False) as client:
        if not _owner_exists():
            _create_owner()
        token = _log_in(client)
        headers = {"Authorization": f"Bearer {token}"}
        connected = {
            c["provider"]
            for c in client.get("/api/v1/connections", headers=headers).json()["connections"]
        }
        for provider in ("google", "facebook"):
            if provider in connected:
                continue
            consent = client.post(
                f"/api/v1/connections/{provider}/authorize", headers=headers, json={}
            )
            consent.raise_for_status()
            # The person clicks "Allow" on the consent page; the sandbox redirects to our
            # callback.
            allowed = client.get(consent.json()["authorization_url"] + "&sandbox_decision=allow")
            client.get(allowed.headers["location"]).raise_for_status()
        if len(connected) < 2:
            _settle(client, headers)
        return token


def _log_in(client: httpx.Client, attempts: int = 30) -> str:
    credentials = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    for _ in range(attempts):
        login = client.post("/api/v1/auth/login", json=credentials)
        if login.status_code == 200:
            return str(login.json()["access_token"])
        if login.status_code not in (429, 503):
            break
        time.sleep(float(login.headers.get("Retry-After") or 1))  # slowed or starting: wait
    code = (login.json().get("error") or {}).get("code") if login.content else None
    raise SystemExit(f"plaudit demo: the demo owner cannot log in ({login.status_code} {code})")


def _owner_exists() -> bool:
    from sqlalchemy import select

    from models import User
    from models.db import session_scope

    index = crypto.blind_index(DEMO_EMAIL)
    with session_scope() as session:
        return session.scalar(select(User.id).where(User.email_index == index)) is not None


def _create_owner() -> None:
    """Public sign-up confirms the address by e-mail; the demo vouches for its own."""
    from models.db import session_scope
    from services.accounts import accounts

    with session_scope() as session:
        accounts.create_owner_account(
            session,
            email=DEMO_EMAIL,
            password=DEMO_PASSWORD,
            name="Demo Owner",
            organisation_name="Demo Bakery",
        )


def _settle(client: httpx.Client, headers: dict[str, str], timeout: float = 30.0) -> None:
    """Wait for the first syncs of every connection, so "ready" means the inbox is full."""
    deadline, last, steady = time.monotonic() + timeout, None, 0
    while time.monotonic() < deadline and steady < 4:
        connections = client.get("/api/v1/connections", headers=headers).json()["connections"]
        items = client.get("/api/v1/items", headers=headers, params={"limit": 100}).json()
        now = (
            [c["last_synced_at"] for c in connections],
            [i["id"] for i in items["items"]],
        )
        synced = all(c["last_synced_at"] for c in connections)
        steady = steady + 1 if synced and now == last else 0
        last = now
        time.sleep(0.25)


def run_demo(*, port: int = 8000) -> None:
    import uvicorn

    from connectors.sandbox.server import SandboxServer, base_urls
    from connectors.sandbox.state import SandboxState

    data_dir = Path(os.environ.get("PLAUDIT_DATA_DIR", ".plaudit")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    print("plaudit demo: starting embedded PostgreSQL …", flush=True)
    pg, database_url = _embedded_postgres(data_dir)
    sandbox = SandboxServer(SandboxState.seeded(seed=1, locations=3, reviews_per_location=25))
    sandbox.start()
    _configure(data_dir, database_url, base_urls(sandbox.url), port)

    from api.app import create_app
    from api.proxies import uvicorn_proxy_options
    from core.logs import setup_logging
    from models.migrate import upgrade
    from scheduler.loop import run_forever
    from workers.runner import start_worker

    setup_logging()
    upgrade()
    _trust_stored_grants(sandbox)
    worker = start_worker(threads=4)
    stop = threading.Event()
    scheduler = threading.Thread(target=run_forever, args=(stop,), name="scheduler", daemon=True)
    scheduler.start()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(), host="127.0.0.1", port=port, access_log=False, **uvicorn_proxy_options()
        )
    )
    api_thread = threading.Thread(target=server.run, name="api", daemon=True)
    api_thread.start()
    while not server.started:
        if not api_thread.is_alive():
            raise SystemExit(f"plaudit demo: the API could not start on port {port}")
        time.sleep(0.05)
    api = f"http://127.0.0.1:{port}"
    # Comments, ratings and mentions added at the sandbox arrive as signed webhooks.
    sandbox.state.facebook.webhook_url = f"{api}/api/v1/webhooks/facebook"
    token = _seed(api)
    print(
        f"""
plaudit demo is running.
  Dashboard      {api}/
  Log in         {DEMO_EMAIL} / {DEMO_PASSWORD}  (in the dashboard, or POST {api}/api/v1/auth/login)
  API docs       {api}/docs
  Ready token    {token}
  Inbox          curl -H 'Authorization: Bearer <token>' {api}/api/v1/items
  Mailbox        {api}/api/v1/mailbox  (e-mails the demo sent, with the same token)
  Sandbox        {sandbox.url}/_admin/locations  (add or edit reviews while it runs)
  Facebook       {sandbox.url}/_admin/facebook/summary  (POST …/comments: a webhook arrives)
  Data           {data_dir}
Press Ctrl-C to stop.""",
        flush=True,
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    print("plaudit demo: stopping …", flush=True)
    server.should_exit = True
    api_thread.join(timeout=10)
    worker.stop()
    sandbox.stop()
    pg.cleanup()


def _trust_stored_grants(sandbox: Any) -> None:
    """The sandbox keeps its grants in memory; on a second start, tell it about the refresh
    tokens it issued last time so the demo's connection stays valid."""
    from sqlalchemy import select

    from models import Connection
    from models.db import session_scope

    with session_scope() as session:
        for connection in session.scalars(select(Connection)):
            if connection.provider == "google" and connection.refresh_token:
                sandbox.state.google_trust_refresh_token(connection.refresh_token)
            if connection.provider == "facebook" and connection.access_token:
                sandbox.state.facebook.trust_user_token(connection.access_token)
