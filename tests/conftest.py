"""Shared fixtures: a real PostgreSQL migrated once per run, a real Redis broker, the sandbox.

The environment is set before any project module is imported, because settings and the dramatiq
broker are read once per process.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

from cryptography.fernet import Fernet

RUN_ID = uuid.uuid4().hex[:8]
ADMIN_URL = os.environ.get(
    "PLAUDIT_TEST_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
)
# A database per run, so that two runs on one machine (two developers, CI) never collide.
TEST_DB = os.environ.get("PLAUDIT_TEST_DB", f"plaudit_test_{RUN_ID}")
os.environ.update(
    {
        "PLAUDIT_DATABASE_URL": ADMIN_URL.rsplit("/", 1)[0] + "/" + TEST_DB,
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
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from models.base import Base  # noqa: E402
from models.db import get_engine, get_sessionmaker  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.redaction_policy import forget_policy  # noqa: E402


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
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db() -> Iterator[Session]:
    """An empty database and a session on it. Tables are emptied rather than rolled back
    because end-to-end tests commit from other threads and processes."""
    truncate_all()
    forget_policy()  # ids restart with the tables: a cached policy would be someone else's
    session = get_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


from tests.fixtures import sandbox  # noqa: E402, F401  (fixtures shared by several folders)
