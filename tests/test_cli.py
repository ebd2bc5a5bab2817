"""The `plaudit` command: clear one-line errors, and the database command."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import create_engine, inspect, text

from tests.conftest import ADMIN_URL, RUN_ID


def plaudit(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plaudit.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_secret_is_one_clear_line_and_a_non_zero_exit():
    result = plaudit("scheduler", "--once", PLAUDIT_JWT_SECRET="")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "plaudit: configuration error: Value error, PLAUDIT_JWT_SECRET must be set "
        "(outside `plaudit demo`)"
    ]


def test_an_unreachable_database_is_one_clear_line_without_the_password():
    url = "postgresql+psycopg2://plaudit:hunter2-secret@127.0.0.1:1/plaudit"
    result = plaudit("db", "upgrade", PLAUDIT_DATABASE_URL=url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("plaudit: cannot reach the database")
    assert "hunter2" not in result.stderr + result.stdout


def test_db_upgrade_builds_the_schema_on_an_empty_database():
    name = f"plaudit_cli_{RUN_ID}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        result = plaudit("db", "upgrade", PLAUDIT_DATABASE_URL=url)
        assert result.returncode == 0, result.stderr
        engine = create_engine(url)
        tables = set(inspect(engine).get_table_names())
        engine.dispose()
        assert {"items", "connections", "replies", "sync_runs", "audit_events"} <= tables
        # Running it again is harmless.
        assert plaudit("db", "upgrade", PLAUDIT_DATABASE_URL=url).returncode == 0
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_an_unknown_command_is_refused():
    result = plaudit("frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
