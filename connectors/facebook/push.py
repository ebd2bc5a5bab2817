"""What one change of a page webhook means for the inbox (each capability reads its own; see
``connectors.facebook.webhooks``). Value shapes for ``mention`` and ``ratings`` are
representative rather than documented (PROVIDERS.md §E), so everything is read defensively and
an event that cannot be understood asks for a sync of that page instead."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.records import ItemRecord, MalformedRecord

ADDED = frozenset({"add"})
EDITED = frozenset({"edit", "edited", "update"})
REMOVED = frozenset({"remove", "delete", "hide"})


class Change(enum.Enum):
    INSERT = "insert"  # a new item, complete in the event
    EDIT = "edit"  # new text for an item we may have
    DELETE = "delete"
    SYNC = "sync"  # the event says something changed but not enough to write it


@dataclass(frozen=True)
class PageChange:
    page_id: str
    change: Change
    capability: str
    record: ItemRecord | None = None
    external_id: str | None = None


def text(value: dict[str, Any], key: str) -> str | None:
    return value[key] if isinstance(value.get(key), str) else None


def written(
    page_id: str,
    capability: str,
    verb: str,
    external_id: str,
    build: Callable[[], ItemRecord],
) -> PageChange:
    """An added or edited item complete in the event, a deletion, or (an unknown verb, a record
    that cannot be read) a sync."""
    if verb in REMOVED:
        return PageChange(page_id, Change.DELETE, capability, external_id=external_id)
    if verb not in ADDED | EDITED:
        return PageChange(page_id, Change.SYNC, capability)
    try:
        record = build()
    except MalformedRecord:
        return PageChange(page_id, Change.SYNC, capability)
    record.provider_updated_at = record.posted_at
    change = Change.INSERT if verb in ADDED else Change.EDIT
    return PageChange(page_id, change, capability, record, external_id)
