"""CSV export of any inbox filter, streamed: rows leave as they are read, in batches, through a
server-side cursor, so memory does not grow with the export's size."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select

from api.scope import LocationIds
from api.services.inbox import InboxFilters, Sort, filtered, ordered
from models import Item
from models.db import session_scope

COLUMNS = [
    "id",
    "source",
    "kind",
    "location_id",
    "external_id",
    "author_name",
    "rating",
    "text",
    "original_text",
    "posted_at",
    "status",
    "assignee_user_id",
    "tags",
    "language",
    "reply_text",
    "reply_updated_at",
]
_BATCH = 1000
# A cell a spreadsheet would run as a formula (CSV injection) is made plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rows(
    *, organisation_id: int, filters: InboxFilters, sort: Sort, location_ids: LocationIds = None
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    query = filtered(
        select(*(getattr(Item, c) for c in COLUMNS)),
        organisation_id=organisation_id,
        filters=filters,
        location_ids=location_ids,
    )
    # Its own session: the request's is closed once the response starts streaming.
    with session_scope() as session:
        result = session.execute(
            ordered(query, sort=sort, after=None), execution_options={"yield_per": _BATCH}
        )
        for batch in result.partitions():
            for row in batch:
                writer.writerow([_cell(value) for value in row])
            yield _drain(buffer)


def _cell(value: object) -> object:
    if isinstance(value, list):
        value = ",".join(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
