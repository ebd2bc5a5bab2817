"""CSV export of any inbox filter, streamed: rows leave as they are read, in batches, through a
server-side cursor, so memory does not grow with the export's size."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select

from models import Item
from models.db import session_scope
from services.inbox.inbox import InboxFilters, Sort, filtered, ordered
from services.scope import Scope

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
# OWASP's CSV-injection guidance: every cell quoted (quotes inside doubled, by the csv module),
# and a text cell a spreadsheet could read as a formula prefixed with a single quote. A formula
# starts with one of these, also in full width, also after leading spaces (which spreadsheets
# skip) — and ASVS 1.2.10 adds NUL.
_FORMULA_START = frozenset("=+-@\t\r\n\x00\uff1d\uff0b\uff0d\uff20")


def rows(*, scope: Scope, filters: InboxFilters, sort: Sort) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    query = filtered(select(*(getattr(Item, c) for c in COLUMNS)), scope=scope, filters=filters)
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
    if isinstance(value, str):
        return neutralised(value)
    return value


def neutralised(text: str) -> str:
    """The text as a spreadsheet shows it, never runs it."""
    start = text.lstrip(" \u00a0\u3000\u2000\u2001\u2002\u2003\u2009\ufeff")[:1]
    if start and start in _FORMULA_START:
        return "'" + text
    return text


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
