"""Reading Facebook's record shapes: timestamps, authors, the page's own comments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.records import MalformedRecord, parse_timestamp


def graph_time(value: object) -> datetime:
    """Graph API times look like ``2024-01-02T03:04:05+0000``; webhooks send Unix seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    return parse_timestamp(value)


def person(record: dict[str, Any], key: str = "from") -> tuple[str | None, str | None]:
    """(id, name) of a record's author; either may be missing (Facebook leaves ``from`` out
    when the caller may not see it)."""
    author = record.get(key)
    if author is None:
        return None, None
    if not isinstance(author, dict):
        raise MalformedRecord(f"{key} is not an object")
    author_id, name = author.get("id"), author.get("name")
    return (
        str(author_id) if author_id is not None else None,
        name if isinstance(name, str) else None,
    )


def required_id(record: Any, key: str = "id") -> str:
    if not isinstance(record, dict):
        raise MalformedRecord("record is not an object")
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedRecord(f"record has no {key}")
    return value


def optional_text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedRecord(f"{key} is not a string")
    return value or None
