"""Posts the page is tagged in (``/{page}/tagged``): mentions, for the inbox."""

from __future__ import annotations

from typing import Any

from connectors.base import Stream
from connectors.facebook.records import graph_time, optional_text, person, required_id
from connectors.paging import CursorPaginator
from connectors.records import ItemRecord

FIELDS = "id,message,created_time,updated_time,from{id,name},permalink_url"


class FacebookTagged(Stream):
    name = "facebook_tagged"
    kind = "mention"
    records_key = "data"
    paginator = CursorPaginator

    def path(self, location: str) -> str:
        return f"{location}/tagged"

    def params(self) -> dict[str, Any]:
        return {"fields": FIELDS, "limit": 100}

    def record_id(self, record: Any) -> str | None:
        value = record.get("id") if isinstance(record, dict) else None
        return value if isinstance(value, str) and value else None

    def parse(self, record: dict[str, Any]) -> ItemRecord:
        post_id = required_id(record)
        author_id, author_name = person(record)
        created = graph_time(record.get("created_time"))
        updated = record.get("updated_time")
        return ItemRecord(
            kind="mention",
            external_id=post_id,
            posted_at=created,
            provider_updated_at=graph_time(updated) if updated else created,
            author_name=author_name,
            author_external_id=author_id,
            text=optional_text(record, "message"),
        )
