"""Reading Facebook's record shapes: timestamps, authors, the page's own comments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.records import ItemRecord, MalformedRecord, parse_timestamp

# A nested read of an object's newest top-level comments (field expansion), where the page's
# answer is; one it cannot find there is kept as stored (see page_answer).
ANSWER_FIELDS = (
    "comments.filter(toplevel).order(reverse_chronological).limit(25)"
    "{id,message,created_time,from{id}}"
)


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


def comment(record: Any, kind: str = "comment") -> ItemRecord:
    """A Graph comment (``id``, ``message``, ``created_time``, ``from``) as an item of ``kind``."""
    comment_id = required_id(record)
    author_id, author_name = person(record)
    created = graph_time(record.get("created_time"))
    return ItemRecord(
        kind=kind,
        external_id=comment_id,
        posted_at=created,
        provider_updated_at=created,
        author_name=author_name,
        author_external_id=author_id,
        text=optional_text(record, "message"),
    )


@dataclass(frozen=True, slots=True)
class Answer:
    """A comment of the page's own under one of its items: the page's answer to it."""

    id: str
    text: str
    created: datetime


def page_answer(block: object, page_id: str) -> tuple[Answer | None, bool]:
    """The page's latest comment in a nested ``comments`` block, and whether the block can tell.

    Graph leaves an empty edge out of a field expansion, and can list a story's comments as
    empty although the page answered (PROVIDERS.md §G.5): a block that shows no comment at all
    cannot tell "no answer". Nor can one with more pages that shows none of the page's.
    """
    if block is None:
        return None, False
    if not isinstance(block, dict):
        raise MalformedRecord("comments is not an object")
    data = block.get("data") or []
    if not isinstance(data, list):
        raise MalformedRecord("comments.data is not a list")
    latest: Answer | None = None
    for comment in data:
        author_id, _ = person(comment) if isinstance(comment, dict) else (None, None)
        if author_id != page_id:
            continue
        answer = Answer(
            required_id(comment),
            optional_text(comment, "message") or "",  # a sticker or photo alone: no text
            graph_time(comment.get("created_time")),
        )
        if latest is None or answer.created >= latest.created:
            latest = answer
    paging = block.get("paging")
    more = isinstance(paging, dict) and bool(paging.get("next"))
    return latest, bool(data) and (latest is not None or not more)


def with_answer(item: ItemRecord, block: object, page_id: str) -> ItemRecord:
    """The item with the page's answer from its ``comments`` block as its reply."""
    answer, known = page_answer(block, page_id)
    item.reply_known = known
    if answer is not None:
        item.reply_text, item.reply_updated_at = answer.text, answer.created
        item.reply_external_id = answer.id
    return item
