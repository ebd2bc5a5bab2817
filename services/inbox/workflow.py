"""The inbox workflow: status, assignment, tags and notes, one item at a time or in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, select, text, update
from sqlalchemy.orm import Session

from core.errors import Forbidden, Invalid
from core.redaction import redact
from models import Item, ItemNote, Membership, Role
from models.redaction_policy import policy_for
from services.inbox.inbox import InboxFilters, conditions, get_item
from services.scope import Scope, get_in_scope, in_locations, in_scope


@dataclass(frozen=True)
class Changes:
    """What to set; a field left as None is not touched (``unassign`` clears the assignee)."""

    status: str | None = None
    assignee_user_id: int | None = None
    unassign: bool = False
    add_tags: Sequence[str] = ()
    remove_tags: Sequence[str] = ()
    tags: Sequence[str] | None = None  # replaces the tags
    language: str | None = None

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.status is not None:
            values["status"] = self.status
        if self.assignee_user_id is not None:
            values["assignee_user_id"] = self.assignee_user_id
        if self.unassign:
            values["assignee_user_id"] = None
        if self.language is not None:
            values["language"] = self.language
        if self.tags is not None:
            values["tags"] = sorted(set(self.tags))
        elif self.add_tags or self.remove_tags:
            values["tags"] = _TAG_EDIT.bindparams(
                add_tags=list(self.add_tags), remove_tags=list(self.remove_tags)
            )
        return values


# Set semantics in SQL, so that a bulk edit is one statement: append, drop, de-duplicate, sort.
_TAG_EDIT = text(
    "ARRAY(SELECT DISTINCT t FROM unnest(array_cat(items.tags, CAST(:add_tags AS varchar[])))"
    " AS t WHERE t <> ALL(CAST(:remove_tags AS varchar[])) ORDER BY t)"
)


def check_assignee(
    session: Session,
    *,
    scope: Scope,
    user_id: int | None,
    items: list[ColumnElement[bool]] | None = None,
) -> None:
    """Refuse an assignee who could not act on the items (``items``: the WHERE clause of those
    being assigned)."""
    if user_id is None:
        return
    row = session.execute(
        select(Membership.role, Membership.location_ids).where(
            Membership.organisation_id == scope.organisation_id, Membership.user_id == user_id
        )
    ).one_or_none()
    # A viewer cannot act on an item, so assigning one would be a dead end.
    if row is None or not Role(row.role).at_least(Role.RESPONDER):
        raise Invalid(
            "invalid",
            "The assignee must be a member who can reply (responder or higher)",
            field="assignee_user_id",
        )
    # So would an item outside the assignee's locations, which they cannot even see.
    if row.location_ids is not None and items is not None:
        theirs = func.coalesce(and_(*in_locations(Item.location_id, row.location_ids)), false())
        if session.scalar(select(exists().where(*items, theirs.is_(False)))):
            raise Invalid(
                "invalid",
                "The assignee is limited to locations that do not include every item",
                field="assignee_user_id",
            )


def update_item(
    session: Session,
    *,
    scope: Scope,
    item_id: int,
    changes: Changes,
) -> Item:
    item = get_item(session, scope=scope, item_id=item_id)
    check_assignee(
        session, scope=scope, user_id=changes.assignee_user_id, items=[Item.id == item.id]
    )
    values = changes.values()
    if values:
        session.execute(
            update(Item).where(Item.id == item.id).values(**values),
            execution_options={"synchronize_session": False},
        )
        session.refresh(item)
    return item


def bulk_update(
    session: Session,
    *,
    scope: Scope,
    filters: InboxFilters,
    changes: Changes,
) -> int:
    """Apply ``changes`` to every item the filter matches within the caller's scope, in one
    statement."""
    where = conditions(scope=scope, filters=filters)
    check_assignee(session, scope=scope, user_id=changes.assignee_user_id, items=where)
    values = changes.values()
    if not values:
        return 0
    result = session.execute(
        update(Item).where(*where).values(**values),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount


def notes(session: Session, *, scope: Scope, item_id: int) -> list[ItemNote]:
    get_item(session, scope=scope, item_id=item_id)
    return list(
        session.scalars(
            select(ItemNote)
            .where(*in_scope(ItemNote, scope), ItemNote.item_id == item_id)
            .order_by(ItemNote.id)
        )
    )


def add_note(
    session: Session,
    *,
    scope: Scope,
    item_id: int,
    body: str,
) -> ItemNote:
    """A note by the person of ``scope`` (for a key: its creator)."""
    get_item(session, scope=scope, item_id=item_id)
    # A note is internal, but it is personal data all the same: what a colleague types (a card
    # number read out on the phone, a token) is redacted like provider text, the rest encrypted.
    note = ItemNote(
        organisation_id=scope.organisation_id,
        item_id=item_id,
        author_user_id=scope.user_id,
        body=redact(body, policy_for(session, scope.organisation_id)).text,
    )
    session.add(note)
    session.flush()
    return note


def delete_note(
    session: Session,
    *,
    scope: Scope,
    item_id: int,
    note_id: int,
) -> None:
    note = get_in_scope(session, scope, ItemNote, note_id, ItemNote.item_id == item_id, what="Note")
    if note.author_user_id != scope.user_id and not scope.role.at_least(Role.MANAGER):
        raise Forbidden("forbidden", "Only its author or a manager can delete a note")
    session.delete(note)
