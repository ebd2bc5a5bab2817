"""Key rotation: re-encrypt every encrypted column under the current first key, in batches.

Safe while the service runs: each batch locks its rows (``FOR UPDATE SKIP LOCKED``), so a
concurrent write waits for the batch instead of being overwritten with the old value, and rows
busy elsewhere are simply left for the next run. Running it again resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator

from sqlalchemy import text
from sqlalchemy.orm import Session

import models  # noqa: F401  (every table registered on the metadata)
from core import crypto
from models.base import Base
from models.types import EncryptedText

log = logging.getLogger(__name__)
BATCH = 1000


def encrypted_columns() -> Iterator[tuple[str, str]]:
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                yield table.name, column.name


def key_usage(session: Session) -> dict[str, Counter[str]]:
    """Rows per key id, per ``table.column``: a key may be retired once no row uses it."""
    usage: dict[str, Counter[str]] = {}
    for table, column in encrypted_columns():
        rows = session.execute(
            text(
                f'SELECT split_part("{column}", \':\', 1), count(*) FROM "{table}" '
                f'WHERE "{column}" IS NOT NULL GROUP BY 1'
            )
        )
        usage[f"{table}.{column}"] = Counter({kid: n for kid, n in rows})
    return usage


def remaining(session: Session) -> int:
    primary = crypto.keyring().primary
    return sum(
        n for counts in key_usage(session).values() for kid, n in counts.items() if kid != primary
    )


def rotate_batch(session: Session, table: str, column: str) -> int:
    rows = session.execute(
        text(
            f'SELECT ctid::text, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL '
            f'AND "{column}" NOT LIKE :current LIMIT :batch FOR UPDATE SKIP LOCKED'
        ),
        {"current": crypto.keyring().primary + ":%", "batch": BATCH},
    ).all()
    if not rows:
        return 0
    values = [crypto.encrypt(crypto.decrypt(v, where=f"{table}.{column}")) for _, v in rows]
    session.execute(
        text(
            f'UPDATE "{table}" AS t SET "{column}" = v.value '
            "FROM unnest(CAST(:ctids AS tid[]), CAST(:values AS text[])) AS v(row_id, value) "
            "WHERE t.ctid = v.row_id"
        ),
        {"ctids": [ctid for ctid, _ in rows], "values": values},
    )
    return len(rows)


def rotate_all(
    session: Session, *, progress: Callable[[int, int], None] = lambda done, total: None
) -> int:
    """Re-encrypt every value not under the primary key, committing each batch; returns how
    many values were re-encrypted."""
    total = remaining(session)
    session.commit()
    done = 0
    progress(done, total)
    for table, column in encrypted_columns():
        while True:
            count = rotate_batch(session, table, column)
            session.commit()
            if not count:
                break
            done += count
            progress(done, max(total, done))
    return done


def organisation_usage(session: Session, *, organisation_id: int) -> Counter[str]:
    """Values per key id among one organisation's rows: its view of a rotation's progress."""
    usage: Counter[str] = Counter()
    for table, column in encrypted_columns():
        columns = Base.metadata.tables[table].c
        if "organisation_id" in columns:
            scope = "organisation_id = :org"
        elif table == "users":
            scope = "id IN (SELECT user_id FROM memberships WHERE organisation_id = :org)"
        else:
            continue
        rows = session.execute(
            text(
                f'SELECT split_part("{column}", \':\', 1), count(*) FROM "{table}" '
                f'WHERE "{column}" IS NOT NULL AND {scope} GROUP BY 1'
            ),
            {"org": organisation_id},
        )
        usage.update({kid: n for kid, n in rows})
    return usage
