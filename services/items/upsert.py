"""Writing provider records into the items table — the one upsert, for a sync's pages and for
a push event alike: one statement per batch, and only rows that changed.

Identifiers typed into free text are redacted here, once, before anything is stored.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from connectors.records import ItemRecord
from core.redaction import Policy, redacted_text
from models.redaction_policy import policy_for
from services.items.events import Changes, returned

# Per-record columns and their PostgreSQL array types: each page is sent as one array per
# column and unnested, so the statement text never changes (prepared once, no per-row binds).
_COLUMNS = (
    ("kind", "text"),
    ("external_id", "text"),
    ("author_name", "text"),
    ("author_external_id", "text"),
    ("author_photo_url", "text"),
    ("author_anonymous", "boolean"),
    ("rating", "smallint"),
    ("text", "text"),
    ("original_text", "text"),
    ("posted_at", "timestamptz"),
    ("provider_updated_at", "timestamptz"),
    ("reply_text", "text"),
    ("reply_updated_at", "timestamptz"),
    ("reply_state", "text"),
    ("reply_policy_violation", "text"),
    ("reply_url", "text"),
    ("reply_external_id", "text"),
    ("media", "jsonb"),
)
# What a provider may change after the fact; a re-read with none of it changed writes nothing.
_MUTABLE = tuple(name for name, _ in _COLUMNS if name not in ("kind", "external_id"))
# What a push event may change. It carries only part of an item: what it lacks keeps the
# stored value, and our reply and the first-seen time stay as the sync wrote them.
_EVENT_CONTENT = ("author_name", "author_external_id", "rating", "text", "provider_updated_at")

# A display name is free text too (some people go by their e-mail address or phone number); it
# reaches replies through the templates' reviewer_name.
_REDACTED = ("text", "original_text", "reply_text", "author_name")


# Rows from a staging table rather than arrays: COPY is PostgreSQL's cheapest way in for a
# sync's batches (no array to build, parse and unnest), then one INSERT … SELECT merges them.
STAGING_TABLE = "items_staging"
_UNNESTED = "unnest(" + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _COLUMNS) + ")"
# At or above this many rows a batch goes through COPY; a push event's few through arrays.
COPY_ROWS = 200


def _statement(changes: dict[str, str], source: str = _UNNESTED) -> TextClause:
    """The upsert of the rows of ``source`` that sets ``changes`` (column -> new value) on a
    conflict, when they differ."""
    return text(
        "INSERT INTO items (organisation_id, connection_id, location_id, source, deleted, "
        + ", ".join(name for name, _ in _COLUMNS)
        + ") SELECT :organisation_id, :connection_id, :location_id, :source, false, u.* FROM "
        + source
        + " AS u ON CONFLICT (connection_id, external_id) DO UPDATE SET "
        + ", ".join(f"{name} = {value}" for name, value in changes.items())
        + ", deleted = false, deleted_at = NULL, updated_at = now() WHERE ("
        + ", ".join(f"items.{name}" for name in changes)
        + ", items.deleted) IS DISTINCT FROM ("
        + ", ".join(changes.values())
        + ", false) RETURNING id, (xmax = 0)"
    )


_PAGE_CHANGES = {name: f"excluded.{name}" for name in _MUTABLE}
# A record whose read could not tell whether there is a reply (``reply_known``) keeps the stored
# one: Facebook can list a story's comments as empty although the page answered it.
_REPLY = (
    "reply_text",
    "reply_updated_at",
    "reply_state",
    "reply_policy_violation",
    "reply_external_id",
)
_KEEPING_REPLY = {name: value for name, value in _PAGE_CHANGES.items() if name not in _REPLY}
# (by unnest, by the staging table) for a page whose reply is known, and for one whose is not
_UPSERT_PAGE = (_statement(_PAGE_CHANGES), _statement(_PAGE_CHANGES, STAGING_TABLE))
_UPSERT_PAGE_KEEPING_REPLY = (_statement(_KEEPING_REPLY), _statement(_KEEPING_REPLY, STAGING_TABLE))
_UPSERT_EVENT = _statement(
    {name: f"coalesce(excluded.{name}, items.{name})" for name in _EVENT_CONTENT}
)


def upsert_items(
    session: Session,
    *,
    organisation_id: int,
    connection_id: int,
    location_id: int | None,
    source: str,
    records: Sequence[ItemRecord],
    partial: bool = False,
) -> Changes:
    """Insert new items, update changed ones; returns which rows it inserted and changed.

    ``partial``: the records are push events, each carrying only what changed; an existing
    item takes their non-empty content and keeps the rest."""
    if not records:
        return Changes()
    records = _last_wins(records)
    policy = policy_for(session, organisation_id)
    scope = {
        "organisation_id": organisation_id,
        "connection_id": connection_id,
        "location_id": location_id,
        "source": source,
    }
    if partial:
        return returned(session.execute(_UPSERT_EVENT, _params(records, policy) | scope).all())
    changes = Changes()
    for known in (True, False):
        group = [r for r in records if r.reply_known is known]
        if group:
            statements = _UPSERT_PAGE if known else _UPSERT_PAGE_KEEPING_REPLY
            changes.add(_upsert_page(session, statements, group, scope, policy))
    return changes


def _params(records: Sequence[ItemRecord], policy: Policy) -> dict[str, list[Any]]:
    params = {name: [getattr(r, name) for r in records] for name, _ in _COLUMNS}
    # As JSON text: psycopg2 would send a list of dicts as an array of arrays.
    params["media"] = [
        None if m is None else json.dumps(_redacted_media(m, policy)) for m in params["media"]
    ]
    for name in _REDACTED:
        params[name] = [
            None if value is None else redacted_text(value, policy) for value in params[name]
        ]
    return params


def _redacted_media(media: list[dict[str, str]], policy: Policy) -> list[dict[str, str]]:
    """A media item's label is free text whose author Google does not document (the reviewer's
    caption, perhaps): redacted as the review's text is. The URLs are Google's own."""
    return [
        {**m, "thumbnail_label": redacted_text(m["thumbnail_label"], policy)}
        if m.get("thumbnail_label")
        else m
        for m in media
    ]


def _upsert_page(
    session: Session,
    statements: tuple[TextClause, TextClause],
    records: Sequence[ItemRecord],
    scope: dict[str, object],
    policy: Policy,
) -> Changes:
    by_unnest, staged = statements
    params = _params(records, policy)
    if len(records) < COPY_ROWS:
        return returned(session.execute(by_unnest, params | scope).all())
    _stage(session, params)
    rows = session.execute(staged, scope).all()
    # Emptied at once, not only at commit: a caller may upsert twice in one transaction.
    session.execute(text(f"DELETE FROM {STAGING_TABLE}"))
    return returned(rows)


_CREATE_STAGING = text(
    f"CREATE TEMP TABLE IF NOT EXISTS {STAGING_TABLE} ("
    + ", ".join(f"{name} {kind}" for name, kind in _COLUMNS)
    + ") ON COMMIT DELETE ROWS"
)
# COPY's text format: a tab between fields, a line a row, \N for NULL; a backslash, tab,
# newline or carriage return in a value is escaped with a backslash (records are storable, so
# no NUL reaches here).
_COPY_NULL = "\\N"
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: str) -> str:
    return value.translate(_COPY_ESCAPES) if _COPY_SPECIAL.search(value) else value


def _copy_column(values: list[Any], kind: str) -> list[str]:
    if kind in ("text", "jsonb"):
        return [_COPY_NULL if v is None else _copy_field(v) for v in values]
    if kind == "boolean":
        return [_COPY_NULL if v is None else "t" if v else "f" for v in values]
    if kind == "timestamptz":
        return [_COPY_NULL if v is None else v.isoformat() for v in values]
    return [_COPY_NULL if v is None else str(v) for v in values]


def _stage(session: Session, params: dict[str, list[Any]]) -> None:
    """The batch's rows into the session's staging table, by COPY."""
    session.execute(_CREATE_STAGING)
    columns = [_copy_column(params[name], kind) for name, kind in _COLUMNS]
    data = "".join(line + "\n" for line in map("\t".join, zip(*columns, strict=True)))
    cursor = session.connection().connection.cursor()
    try:
        cursor.copy_expert(f"COPY {STAGING_TABLE} FROM STDIN", io.StringIO(data))
    finally:
        cursor.close()


def _last_wins(records: Sequence[ItemRecord]) -> Sequence[ItemRecord]:
    # ON CONFLICT cannot touch one row twice in a statement; a provider may list an item twice
    # when it is edited between two pages.
    by_id = {r.external_id: r for r in records}
    return list(by_id.values()) if len(by_id) != len(records) else records


SEEN_TABLE = "sync_seen_ids"


def start_seen(session: Session) -> None:
    session.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {SEEN_TABLE} (external_id text PRIMARY KEY) "
            "ON COMMIT PRESERVE ROWS"
        )
    )
    session.execute(text(f"TRUNCATE {SEEN_TABLE}"))


def add_seen(session: Session, external_ids: Sequence[str]) -> None:
    if external_ids:
        session.execute(
            text(f"INSERT INTO {SEEN_TABLE} SELECT unnest(:ids) ON CONFLICT DO NOTHING"),
            {"ids": list(external_ids)},
        )


def unseen(session: Session, *, location_id: int, source: str, kind: str) -> list[str]:
    """The external ids of stored, undeleted items a pass has not seen (yet)."""
    result = session.execute(
        text(
            f"SELECT external_id FROM items WHERE location_id = :location AND source = :source "
            f"AND kind = :kind AND NOT deleted AND NOT EXISTS "
            f"(SELECT 1 FROM {SEEN_TABLE} s WHERE s.external_id = items.external_id) "
            "ORDER BY id"
        ),
        {"location": location_id, "source": source, "kind": kind},
    )
    return list(result.scalars())


def mark_unseen_deleted(session: Session, *, location_id: int, source: str, kind: str) -> list[int]:
    """After a complete pass: what the provider no longer lists is gone; returns their ids."""
    result = session.execute(
        text(
            f"UPDATE items SET deleted = true, deleted_at = now(), updated_at = now() "
            f"WHERE location_id = :location AND source = :source AND kind = :kind AND NOT deleted "
            f"AND NOT EXISTS (SELECT 1 FROM {SEEN_TABLE} s WHERE s.external_id = items.external_id)"
            " RETURNING id"
        ),
        {"location": location_id, "source": source, "kind": kind},
    )
    return list(result.scalars())
