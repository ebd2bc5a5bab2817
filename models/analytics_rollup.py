"""Analytics' rollups of the items table, kept by PostgreSQL itself.

Statement-level triggers on ``items`` (migration 0020_inbox_speed, ``ROLLUP_TRIGGERS_SQL``) add
each statement's inserted rows, subtract its deleted ones and move its updated ones, aggregated
once per statement from its transition tables, in the same transaction as the write: the sync's
bulk upsert, a push, the inbox workflow, an erasure, retention and an organisation's deletion
alike, with no call to forget. A day is the UTC day an item was posted on; rating 0 is no
rating. Reply times are counted in buckets of 10 % width (``REPLY_BUCKET_RATIO``), so a
percentile read from them is within 5 % of the exact one (or under a second, for bucket -1).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

REPLY_BUCKET_RATIO = 1.1


class AnalyticsDay(Base):
    """Items posted on a day with a rating, deleted or not, and how many of them are replied."""

    __tablename__ = "analytics_days"

    organisation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rating: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    items: Mapped[int] = mapped_column(BigInteger)
    replied: Mapped[int] = mapped_column(BigInteger)


class AnalyticsReplyTime(Base):
    """Items posted on a day (deleted or not) with a reply time in a bucket: bucket k holds
    REPLY_BUCKET_RATIO**k <= seconds < REPLY_BUCKET_RATIO**(k+1); bucket -1, under a second."""

    __tablename__ = "analytics_reply_times"

    organisation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    deleted: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    items: Mapped[int] = mapped_column(BigInteger)


def rollup_sql(rows: str, sign: str = "") -> list[str]:
    """The statements adding ``sign`` × ``rows`` to the rollups (the backfill: ``items``)."""
    return _aggregates(rows, sign)


def _aggregates(rows: str, sign: str) -> list[str]:
    """The two INSERT … SELECT … ON CONFLICT statements adding ``sign`` × ``rows`` (a transition
    table or a query) to the rollups. Rows are aggregated and sorted by key first, so that two
    writers lock the rollup rows they share in the same order."""
    day = "(posted_at AT TIME ZONE 'UTC')::date"
    seconds = "extract(epoch FROM reply_updated_at - posted_at)"
    bucket = (
        f"CASE WHEN {seconds} < 1 THEN -1 ELSE floor(ln({seconds}) / ln({REPLY_BUCKET_RATIO})) END"
    )
    return [
        f"""INSERT INTO analytics_days AS t (organisation_id, day, rating, deleted, items, replied)
        SELECT organisation_id, {day}, coalesce(rating, 0), deleted, {sign} count(*),
               {sign} count(*) FILTER (WHERE reply_text IS NOT NULL)
        FROM {rows} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (organisation_id, day, rating, deleted) DO UPDATE
        SET items = t.items + excluded.items, replied = t.replied + excluded.replied""",
        f"""INSERT INTO analytics_reply_times AS t (organisation_id, day, deleted, bucket, items)
        SELECT organisation_id, {day}, deleted, {bucket}, {sign} count(*)
        FROM {rows} WHERE reply_updated_at IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (organisation_id, day, deleted, bucket) DO UPDATE
        SET items = t.items + excluded.items""",
    ]


# What the rollups read of an item; an update that changes none of it moves nothing.
_COUNTED = "organisation_id, posted_at, rating, deleted, reply_text IS NULL, reply_updated_at"


def _function(name: str, statements: list[str]) -> str:
    body = ";\n".join(statements)
    return f"""CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
{body};
RETURN NULL;
END $$"""


def _moved(side: str) -> str:
    # The rows of one side of an update whose counted columns changed.
    return (
        f"(SELECT {side}.* FROM old_items o JOIN new_items n USING (id) "
        f"WHERE ({', '.join('o.' + c for c in _COUNTED.split(', '))}) IS DISTINCT FROM "
        f"({', '.join('n.' + c for c in _COUNTED.split(', '))})) AS moved"
    )


# An organisation's deletion cascades to its items, and the delete trigger brings its rollup rows
# to zero: they need no foreign key (readers skip empty rows; organisation ids are not reused).
ROLLUP_TRIGGERS_SQL = [
    _function("analytics_items_inserted", _aggregates("new_items", "")),
    _function("analytics_items_deleted", _aggregates("old_items", "-")),
    _function(
        "analytics_items_updated",
        _aggregates(_moved("o"), "-") + _aggregates(_moved("n"), ""),
    ),
    """CREATE TRIGGER analytics_items_inserted AFTER INSERT ON items
    REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT
    EXECUTE FUNCTION analytics_items_inserted()""",
    """CREATE TRIGGER analytics_items_deleted AFTER DELETE ON items
    REFERENCING OLD TABLE AS old_items FOR EACH STATEMENT
    EXECUTE FUNCTION analytics_items_deleted()""",
    """CREATE TRIGGER analytics_items_updated AFTER UPDATE ON items
    REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items FOR EACH STATEMENT
    EXECUTE FUNCTION analytics_items_updated()""",
]
