"""Engines and session factories, created once per process from settings.

Two pools on the one database. Writes go through ``session_scope``: a transaction that commits
on success. Reads that a request answers from one snapshot of one statement go through ``read``:
an autocommit connection (no BEGIN, no COMMIT round trip) retried once, whole, on a connection
that turns out to be dead.

Neither pool pings a connection before lending it (a round trip per request). A connection the
server closed while it sat in the pool (a restart, an idle timeout, pg_terminate_backend) has its
socket readable — the server's goodbye and end of file — which a zero-timeout poll sees without
a round trip; the pool then replaces it. A connection that dies without the server saying so
fails its first statement: ``read`` runs its work again once on a fresh one.
"""

from __future__ import annotations

import select as selectors
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from core.settings import get_settings

T = TypeVar("T")


def make_engine(url: str, **options: Any) -> Engine:
    """An engine whose pool replaces connections the server has closed, without pinging."""
    # hide_parameters: a database error's text never carries the values of its statement
    # (request data, personal data) into a log line or an error report.
    options = {"pool_size": 10, "max_overflow": 10, **options}
    engine = create_engine(url, hide_parameters=True, **options)
    event.listen(engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    # An idle connection has nothing to read: anything there is the server closing it (we never
    # LISTEN on pooled connections). DisconnectionError makes the pool discard it and check out
    # another (up to three times), which a fresh connection passes.
    if dbapi_connection.closed:
        raise DisconnectionError("the connection is closed")
    readable, _, _ = selectors.select([dbapi_connection.fileno()], [], [], 0)
    if readable:
        raise DisconnectionError("the server closed the connection")


@lru_cache(maxsize=1)
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache(maxsize=1)
def get_read_engine() -> Engine:
    return make_engine(get_settings().database_url, isolation_level="AUTOCOMMIT")


@lru_cache(maxsize=1)
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


@lru_cache(maxsize=1)
def get_read_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(get_read_engine(), expire_on_commit=False)


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def read(work: Callable[[Session], T]) -> T:
    """``work`` on an autocommit session: each statement is its own snapshot, nothing is
    committed, so ``work`` must only read. If the connection is found dead (on its first
    statement, or any), ``work`` runs once more on a fresh one: a read repeated is harmless."""
    for attempt in (1, 2):
        session = get_read_sessionmaker()()
        try:
            return work(session)
        except DBAPIError as error:
            if attempt == 2 or not error.connection_invalidated:
                raise
        finally:
            session.close()
    raise AssertionError("unreachable")
