"""Shared fixtures: a real PostgreSQL migrated once per run, a real Redis broker, the sandbox.

The environment is set before any project module is imported, because settings and the dramatiq
broker are read once per process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

from cryptography.fernet import Fernet

# Each test process has its own id: a run, and under pytest-xdist (`make test` runs the suite
# in several processes) each of its workers, so nothing below is shared between two of them.
RUN_ID = uuid.uuid4().hex[:8]
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
ADMIN_URL = os.environ.get(
    "PLAUDIT_TEST_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
# A database per process, so that two runs on one machine (two developers, CI) or two workers
# of one run never collide; a database named by hand gets the worker's name after it.
TEST_DB = os.environ.get("PLAUDIT_TEST_DB", f"plaudit_test_{RUN_ID}")
if "PLAUDIT_TEST_DB" in os.environ and XDIST_WORKER:
    TEST_DB = f"{TEST_DB}_{XDIST_WORKER}"
# The data folder (the mailbox back-end's .eml files, filed by organisation id, which every
# process's database numbers from 1) is the process's own too, not `.plaudit/` in the checkout.
DATA_DIR = tempfile.mkdtemp(prefix=f"plaudit-test-{RUN_ID}-")
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)
os.environ.update(
    {
        "PLAUDIT_DATABASE_URL": ADMIN_URL.rsplit("/", 1)[0] + "/" + TEST_DB,
        "PLAUDIT_DATA_DIR": DATA_DIR,
        "PLAUDIT_BROKER_URL": os.environ.get(
            "PLAUDIT_TEST_BROKER_URL", "redis://127.0.0.1:6379/15"
        ),
        "PLAUDIT_BROKER_NAMESPACE": f"plaudit-test-{RUN_ID}",
        "PLAUDIT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PLAUDIT_BLIND_INDEX_KEY": "test-blind-index-key-" + RUN_ID,
        "PLAUDIT_JWT_SECRET": "test-jwt-secret-that-is-long-enough-" + RUN_ID,
        "PLAUDIT_GOOGLE_CLIENT_ID": "sandbox-client",
        "PLAUDIT_GOOGLE_CLIENT_SECRET": "sandbox-secret",
        # Chosen explicitly, as outside `plaudit demo` it must be.
        "PLAUDIT_EMAIL_BACKEND": "mailbox",
    }
)

import pytest  # noqa: E402
from sqlalchemy import Connection, create_engine, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

import models.db  # noqa: E402
from core import crypto  # noqa: E402
from core.settings import reset_settings  # noqa: E402
from models.base import Base  # noqa: E402
from models.db import get_engine, get_sessionmaker  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.redaction_policy import forget_policy  # noqa: E402

# A test with this marker gets an emptied database whose commits are real; every other test runs
# in one transaction that is rolled back at its end.
COMMITS = "commits"
# Fixtures that make a test commit from another thread or process (a worker, a served API).
COMMITTING_FIXTURES = frozenset({"facebook_api", "idle_api", "live", "dashboard"})
# Modules that ask the engine for a connection of their own instead of a session.
ENGINE_USERS = ("services.sync.run", "services.sync.limits", "api.routers.health")
# `make test` runs the suite in parallel, then the tests with this marker by themselves: they
# hold a latency or a pace to wall-clock seconds, which cores shared with the others would miss.
ALONE = "alone"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{COMMITS}: the test commits from other threads, connections or processes (workers, a "
        "served API, racing sessions), so it gets an emptied database instead of a rolled-back "
        "transaction",
    )
    config.addinivalue_line(
        "markers",
        f"{ALONE}: the test holds a latency or a pace to wall-clock seconds, so `make test` runs "
        "it after the parallel run, by itself",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if COMMITTING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(COMMITS)


def _admin(statement: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[None]:
    """The schema comes from the migrations, exactly as `plaudit db upgrade` builds it."""
    _admin(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{TEST_DB}"')
    upgrade()
    yield
    get_engine().dispose()
    _admin(f'DROP DATABASE IF EXISTS "{TEST_DB}" WITH (FORCE)')


def truncate_all() -> None:
    """Empty every table that has rows and restart every sequence, as a new database has them.

    Sequences are not transactional, so rolled-back tests move them on too; truncating only
    the tables with rows costs a fraction of truncating all of them."""
    with get_engine().begin() as conn:
        tables = _tables_with_rows(conn)
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
        sequences = conn.execute(
            text("SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences")
        ).scalars()
        for sequence in sequences:
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


def _tables_with_rows(connection: Connection) -> list[str]:
    names = [t.name for t in Base.metadata.sorted_tables]
    probe = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in names
    )
    return list(connection.execute(text(probe)).scalars())


class _BoundEngine:
    """Stands in for the engine where code asks it for a connection of its own (a sync run, the
    health check, a counter): the test's connection, inside a savepoint, so that a session bound
    to it commits to a savepoint too and everything is rolled back with the test."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.connection.begin_nested():
            yield self.connection

    begin = connect


@pytest.fixture
def db(request: pytest.FixtureRequest) -> Iterator[Session]:
    """An empty database and a session on it.

    By default the test runs in one transaction on one connection, rolled back at its end: the
    session, every ``session_scope`` and every request's session join it through savepoints (so
    a commit is a released savepoint and a rollback undoes only its own work). A test marked
    ``commits`` gets real commits on an emptied database instead, and empties it again after.
    """
    forget_policy()  # a cached policy is keyed by an organisation id: it would be stale
    if request.node.get_closest_marker(COMMITS):
        yield from _committing_db()
    else:
        # Its own patcher: undoing the test's ``monkeypatch`` early must not unbind the sessions.
        with pytest.MonkeyPatch.context() as patch:
            yield from _rolled_back_db(patch)
    forget_policy()


def _committing_db() -> Iterator[Session]:
    truncate_all()
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()
        truncate_all()  # the next test may be a rolled-back one, which expects empty tables


def _rolled_back_db(monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    connection = get_engine().connect()
    outer = connection.begin()
    factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    monkeypatch.setattr(models.db, "get_sessionmaker", lambda: factory)
    # Reads join the test's transaction too (they see its rows; they write nothing).
    monkeypatch.setattr(models.db, "get_read_sessionmaker", lambda: factory)
    bound = _BoundEngine(connection)
    for name in ENGINE_USERS:
        monkeypatch.setattr(f"{name}.get_engine", lambda: bound)
    session = factory()
    try:
        yield session
    finally:
        session.close()
        try:
            if outer.is_active:
                outer.rollback()
            leaked = _tables_with_rows(connection)
        finally:
            connection.close()
        if leaked:
            truncate_all()
            pytest.fail(
                f"rows committed outside the test's transaction are left in {leaked}: mark the "
                f"test @pytest.mark.{COMMITS} (or give it a fixture in COMMITTING_FIXTURES)",
                pytrace=False,
            )


class Configure:
    """Sets plaudit's settings through the environment (so processes a test starts see them
    too) and drops the cached settings and keys. Each call remembers what it replaced; the
    fixture puts everything back at the end of the test, and a call used as a context manager
    puts its own values back at the end of the block."""

    def __init__(self) -> None:
        self._replaced: list[tuple[str, str | None]] = []

    def __call__(self, **values: object) -> contextlib.AbstractContextManager[None]:
        named = {f"PLAUDIT_{key.upper()}": str(value) for key, value in values.items()}
        replaced = [(name, os.environ.get(name)) for name in named]
        self._replaced.extend(replaced)
        os.environ.update(named)
        _reload_settings()
        return _PutBack(replaced)

    def restore(self) -> None:
        _put_back(self._replaced)
        self._replaced.clear()


class _PutBack(contextlib.AbstractContextManager[None]):
    def __init__(self, replaced: list[tuple[str, str | None]]) -> None:
        self.replaced = replaced

    def __exit__(self, *exc: object) -> None:
        _put_back(self.replaced)


def _put_back(replaced: list[tuple[str, str | None]]) -> None:
    for name, value in reversed(replaced):
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _reload_settings()


def _reload_settings() -> None:
    reset_settings()
    crypto.reset_keys()


@pytest.fixture
def configure() -> Iterator[Configure]:
    """Change settings for this test only: ``configure(login_max_failures_per_ip=3)``, or for
    a block: ``with configure(full_sync_interval_seconds=0): ...``. What was there before (a
    value or nothing) is put back, never a default written here."""
    settings = Configure()
    try:
        yield settings
    finally:
        settings.restore()


from tests.fixtures import sandbox, serve_sandbox  # noqa: E402, F401  (shared by several folders)
