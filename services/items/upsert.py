"""Writing provider records into the items table — the one upsert, for a sync's pages and for
a push event alike: one statement per batch, and only rows that changed.

Identifiers typed into free text are redacted here, once, before anything is stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from connectors.records import ItemRecord
from core.redaction import Policy, redact
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


def _statement(changes: dict[str, str]) -> TextClause:
    """The upsert that sets ``changes`` (column -> new value) on a conflict, when they differ."""
    return text(
        "INSERT INTO items (organisation_id, connection_id, location_id, source, deleted, "
        + ", ".join(name for name, _ in _COLUMNS)
        + ") SELECT :organisation_id, :connection_id, :location_id, :source, false, u.* FROM "
        + "unnest("
        + ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in _COLUMNS)
        + ") AS u ON CONFLICT (connection_id, external_id) DO UPDATE SET "
        + ", ".join(f"{name} = {value}" for name, value in changes.items())
        + ", deleted = false, deleted_at = NULL, updated_at = now() WHERE ("
        + ", ".join(f"items.{name}" for name in changes)
        + ", items.deleted) IS DISTINCT FROM ("
        + ", ".join(changes.values())
        + ", false) RETURNING id, (xmax = 0)"
    )


_UPSERT_PAGE = _statement({name: f"excluded.{name}" for name in _MUTABLE})
# A record whose read could not tell whether there is a reply (``reply_known``) keeps the stored
# one: Facebook can list a story's comments as empty although the page answered it.
_REPLY = (
    "reply_text",
    "reply_updated_at",
    "reply_state",
    "reply_policy_violation",
    "reply_external_id",
)
_UPSERT_PAGE_KEEPING_REPLY = _statement(
    {name: f"excluded.{name}" for name in _MUTABLE if name not in _REPLY}
)
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
    where = {
        "organisation_id": organisation_id,
        "connection_id": connection_id,
        "location_id": location_id,
        "source": source,
    }
    if partial:
        return _upsert(session, _UPSERT_EVENT, records, where, policy)
    changes = Changes()
    for known in (True, False):
        group = [r for r in records if r.reply_known is known]
        if group:
            statement = _UPSERT_PAGE if known else _UPSERT_PAGE_KEEPING_REPLY
            changes.add(_upsert(session, statement, group, where, policy))
    return changes


def _upsert(
    session: Session,
    statement: TextClause,
    records: Sequence[ItemRecord],
    where: dict[str, object],
    policy: Policy,
) -> Changes:
    params = {name: [getattr(r, name) for r in records] for name, _ in _COLUMNS}
    # As JSON text: psycopg2 would send a list of dicts as an array of arrays.
    params["media"] = [None if m is None else json.dumps(m) for m in params["media"]]
    for name in _REDACTED:
        params[name] = [
            None if value is None else redact(value, policy).text for value in params[name]
        ]
    params.update(where)
    return returned(session.execute(statement, params).all())


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
