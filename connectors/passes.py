"""One pass over a location's listing: the loop the base owns for every capability.

``IncrementalPass`` reads one listing, newest-updated first, and stops at the cursor.
``ChildPass`` reads a parent listing and, under every parent changed since the cursor, the
children's listing (Facebook: posts, then their comments). Both yield pages, set ``new_cursor``
only once complete, and keep a ``position`` to resume from when the provider stops them (a rate
limit) where their page cursors allow it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from connectors.records import ItemRecord, MalformedRecord, Page

if TYPE_CHECKING:
    from connectors.base import ChildStream, Stream

log = logging.getLogger(__name__)


class Pass(Protocol):
    complete: bool
    new_cursor: datetime | None
    skipped: int
    position: dict[str, Any] | None

    def pages(self) -> Iterator[Page]: ...


def iso_time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def later_time(moment: datetime | None, iso: str | None) -> datetime | None:
    """The later of a time and a position's stored one."""
    stored = datetime.fromisoformat(iso) if iso else None
    if moment is None or stored is None:
        return moment or stored
    return max(moment, stored)


def parsed_page(
    records: list[Any], parse: Callable[[Any], list[ItemRecord]], record_id: Callable[[Any], Any]
) -> Page:
    """A page of records, each parsed into its items; a malformed one is skipped and counted,
    its id kept as seen (so a full pass does not call it deleted)."""
    page = Page(items=[])
    for record in records:
        try:
            items = parse(record)
        except MalformedRecord as exc:
            found = record_id(record)
            # The content may hold personal data: log the id and the reason only.
            log.warning("skipped a malformed record %s: %s", found, exc)
            page.skipped += 1
            if found:
                page.seen_ids.append(found)
            continue
        page.items.extend(items)
        page.seen_ids.extend(item.external_id for item in items)
    return page


class _Started:
    """What every pass starts with: its listing, its cursor, and where to resume."""

    def __init__(
        self,
        stream: Any,
        location: str,
        cursor: datetime | None,
        resume: dict[str, Any] | None = None,
    ) -> None:
        self.stream = stream
        self.location = location
        self.cursor = cursor
        self.new_cursor: datetime | None = None
        self.complete = False
        self.skipped = 0
        self.resume = resume if resume and self._resumable(resume) else None
        # Where to carry on after the pages yielded so far (None: from the top), for a pass
        # the provider stopped.
        self.position: dict[str, Any] | None = self.resume

    def _resumable(self, resume: dict[str, Any]) -> bool:
        raise NotImplementedError


class IncrementalPass(_Started):
    """One pass over a location, newest-updated first.

    The listing is sorted by update time, descending, so everything at or after the cursor
    comes first: the pass stops at the first older record. ``new_cursor`` is only set once the
    pass is complete; an interrupted pass leaves the old cursor, and the next one starts again
    from the top (upserts are idempotent, so re-reading is harmless). With ``cursor=None`` the
    pass reads everything: a first sync, or a full pass that finds deletions.
    """

    stream: Stream

    def _resumable(self, resume: dict[str, Any]) -> bool:
        # Only listings with resumable cursors can carry on where a stopped pass was.
        return self.stream.paginator.resumable

    def pages(self) -> Iterator[Page]:
        stream = self.stream
        paginator = stream.paginator()
        params = stream.params()
        highest = self.cursor
        if self.resume is not None:
            params = {**params, **self.resume["params"]}
            highest = later_time(highest, self.resume.get("highest"))
        while True:
            body = stream.client.request("GET", stream.path(self.location), params=params)
            page, reached_cursor = self._page(body.get(stream.records_key) or [])
            for item in page.items:
                if item.provider_updated_at and (
                    highest is None or item.provider_updated_at > highest
                ):
                    highest = item.provider_updated_at
            self.skipped += page.skipped
            yield page
            next_params = None if reached_cursor else paginator.next_params(body)
            if next_params is None:
                break
            params = {**params, **next_params}
            if paginator.resumable:
                self.position = {"params": next_params, "highest": iso_time(highest)}
        self.complete = True
        self.new_cursor = highest

    def _page(self, records: list[Any]) -> tuple[Page, bool]:
        page = Page(items=[])
        for record in records:
            record_id = self.stream.record_id(record)
            try:
                item = self.stream.parse(record)
            except MalformedRecord as exc:
                # The content may hold personal data: log the id and the reason only.
                log.warning(
                    "skipped a malformed %s record %s: %s", self.stream.name, record_id, exc
                )
                page.skipped += 1
                if record_id:
                    page.seen_ids.append(record_id)
                continue
            updated = item.provider_updated_at or item.posted_at
            if self.cursor is not None and updated < self.cursor:
                return page, True
            page.items.append(item)
            page.seen_ids.append(item.external_id)
        return page, False


class ChildPass(_Started):
    """Parents, then the children of every parent changed since the cursor.

    The parents are listed newest-updated first, so once a page of parents reaches the cursor
    (it lists one unchanged since), the pages after it hold nothing new: a pass with nothing
    new costs one request. ``position`` is the parents' page being read, the parent whose
    children were being read and the ``after`` of their next page, and the latest parent time
    seen so far.
    """

    stream: ChildStream

    def _resumable(self, resume: dict[str, Any]) -> bool:
        # An older pass's position (other keys) is no position: that pass starts at the top.
        return "parents" in resume

    def pages(self) -> Iterator[Page]:
        stream = self.stream
        listing = stream.parent(stream.client)
        resume = self.resume or {}
        highest = later_time(self.cursor, resume.get("highest"))
        after: dict[str, Any] = dict(resume.get("parents") or {})
        from_parent, children_after = resume.get("parent"), dict(resume.get("children") or {})
        paginator = listing.paginator()
        while True:
            if from_parent is None:
                self._mark(after, None, {}, highest)
            body = stream.client.request(
                "GET", listing.path(self.location), params={**listing.params(), **after}
            )
            parents = body.get(listing.records_key) or []
            if from_parent is not None:
                # Carry on at the parent that was being read; gone from the page, read it all.
                ids = [listing.record_id(parent) for parent in parents]
                if from_parent in ids:
                    parents = parents[ids.index(from_parent) :]
                else:
                    children_after = {}
                from_parent = None
            reached_cursor = False
            for parent in parents:
                try:
                    parent_id = stream.parent_id(parent)
                    updated = stream.parent_updated(parent)
                except MalformedRecord as exc:
                    log.warning("skipped a malformed parent on %s: %s", self.location, exc)
                    self.skipped += 1
                    continue
                if highest is None or updated > highest:
                    highest = updated
                if self.cursor is not None and updated <= self.cursor:
                    # Nothing under it since the last pass. (A change in the very second that
                    # pass read is left to the webhook or the daily full pass: times are
                    # seconds.)
                    reached_cursor = True
                    continue
                yield from self._children(parent_id, children_after, after, highest)
                children_after = {}
            following = None if reached_cursor else paginator.next_params(body)
            if following is None:
                break
            after = following
        self.complete = True
        self.new_cursor = highest

    def _mark(
        self,
        parents: dict[str, Any],
        parent: str | None,
        children: dict[str, Any],
        highest: datetime | None,
    ) -> None:
        self.position = {
            "parents": parents,
            "parent": parent,
            "children": children,
            "highest": iso_time(highest),
        }

    def _children(
        self,
        parent_id: str,
        after: dict[str, Any],
        parents: dict[str, Any],
        highest: datetime | None,
    ) -> Iterator[Page]:
        """One parent's child pages, from ``after`` (its first page when empty)."""
        stream = self.stream
        paginator = stream.paginator()
        while True:
            self._mark(parents, parent_id, after, highest)
            body = stream.client.request(
                "GET", stream.child_path(parent_id), params={**stream.child_query, **after}
            )
            page = parsed_page(
                body.get(stream.records_key) or [], stream.parse_all, stream.record_id
            )
            self.skipped += page.skipped
            yield page
            following = paginator.next_params(body)
            if following is None:
                return
            after = following
