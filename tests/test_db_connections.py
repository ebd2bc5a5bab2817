"""The pools lend connections without pinging them: one the server closed while it sat in the
pool is replaced at checkout from its socket alone, and a read whose connection dies under it
runs once more on a fresh one (models/db.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

import models.db
from core.settings import get_settings
from models.db import make_engine, read
from tests.support import wait_for


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine(get_settings().database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def reads(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """``read`` on an autocommit pool of one connection."""
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    monkeypatch.setattr(models.db, "get_read_sessionmaker", lambda: sessionmaker(autocommit))
    return engine


def _pid(connection: Connection | Session) -> int:
    return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(pid: int) -> None:
    """Ends that server process from another connection, and waits until it is gone."""
    # Autocommit: within a transaction pg_stat_activity is one snapshot, never updated.
    admin_engine = make_engine(get_settings().database_url, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()

        def gone() -> bool:
            """the terminated backend has left pg_stat_activity"""
            return not admin.execute(
                text("SELECT 1 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).first()

        wait_for(gone)
    admin_engine.dispose()


def test_a_pooled_connection_the_server_closed_is_replaced_at_checkout(engine: Engine):
    # Given the pool's one connection, ended by the server while it sat in the pool
    with engine.connect() as connection:
        first = _pid(connection)
    _terminate(first)

    # When the next caller checks a connection out, its first statement works, on a new one
    with engine.connect() as connection:
        assert _pid(connection) != first


def test_a_read_whose_connection_dies_under_it_runs_once_more_on_a_fresh_one(reads: Engine):
    pids: list[int] = []

    def work(session: Session) -> int:
        pids.append(_pid(session))
        if len(pids) == 1:
            _terminate(pids[0])  # after checkout: only the next statement can find out
        return _pid(session)

    assert read(work) == pids[1]
    assert len(pids) == 2 and pids[1] != pids[0]


def test_a_read_retries_only_once(reads: Engine):
    attempts: list[int] = []

    def work(session: Session) -> int:
        attempts.append(pid := _pid(session))
        _terminate(pid)
        return _pid(session)

    with pytest.raises(DBAPIError) as failure:
        read(work)
    assert failure.value.connection_invalidated
    assert len(attempts) == 2


def test_a_read_is_not_repeated_for_an_error_of_its_own(reads: Engine):
    attempts: list[int] = []

    def work(session: Session) -> None:
        attempts.append(1)
        session.execute(text("SELECT 1 / 0"))

    with pytest.raises(DBAPIError):
        read(work)
    assert attempts == [1]
