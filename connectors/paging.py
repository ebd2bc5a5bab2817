"""Paging strategies: how to ask for the next page, given the body of the last one."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from connectors.errors import ProviderError


class Paginator(ABC):
    """One instance per listing; it remembers what it has seen to refuse loops."""

    # Whether a pass may stop after a page and resume later from the next page's parameters
    # (a rate limit's pause): true of cursors that point at records, not at positions.
    resumable: ClassVar[bool] = False

    def __init__(self) -> None:
        self._seen: set[str] = set()

    @abstractmethod
    def next_params(self, body: dict[str, Any]) -> dict[str, str] | None:
        """Query parameters for the next page, or None when this was the last one."""

    def _advance(self, token: str) -> None:
        # A provider bug that hands back a token twice would otherwise page forever.
        if token in self._seen:
            raise ProviderError("the provider returned the same page token twice")
        self._seen.add(token)


class PageTokenPaginator(Paginator):
    """Google: ``nextPageToken`` in the body, ``pageToken`` in the query; none on the last page."""

    def next_params(self, body: dict[str, Any]) -> dict[str, str] | None:
        token = body.get("nextPageToken")
        if not token:
            return None
        self._advance(token)
        return {"pageToken": token}


class CursorPaginator(Paginator):
    """Facebook: ``paging.cursors.after`` as ``after``, until ``paging.next`` is missing.

    Cursors are still present on the last page, and a page may be short or even empty while
    more follow, so only ``next`` says whether to go on.
    """

    resumable = True

    def next_params(self, body: dict[str, Any]) -> dict[str, str] | None:
        paging = body.get("paging")
        if not isinstance(paging, dict) or not paging.get("next"):
            return None
        cursors = paging.get("cursors")
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if not isinstance(after, str) or not after:
            raise ProviderError("the provider announced a next page without an after cursor")
        self._advance(after)
        return {"after": after}
