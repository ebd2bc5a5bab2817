"""One location's reviews, kept sorted so a page costs O(log n + page size).

The "updateTime desc" order is maintained on every change; the two rating orders are built on
first use and dropped when anything changes, because connectors rarely ask for them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.sandbox.models import Review

ORDERS = ("updateTime desc", "rating", "rating desc")

SortKey = tuple[int, ...]


def _by_update(r: Review) -> SortKey:
    return (-r.update_ns, r.seq)


def _by_rating(r: Review) -> SortKey:
    return (r.star, -r.update_ns, r.seq)


def _by_rating_desc(r: Review) -> SortKey:
    return (-r.star, -r.update_ns, r.seq)


SORT_KEYS: dict[str, Callable[[Review], SortKey]] = {
    "updateTime desc": _by_update,
    "rating": _by_rating,
    "rating desc": _by_rating_desc,
}


class ReviewIndex:
    def __init__(self) -> None:
        self._by_update: list[Review] = []
        self._other_orders: dict[str, list[Review]] = {}
        self._star_sum = 0

    def __len__(self) -> int:
        return len(self._by_update)

    def load(self, reviews: list[Review]) -> None:
        self._by_update = sorted(reviews, key=_by_update)
        self._star_sum = sum(r.star for r in reviews)
        self._other_orders.clear()

    def add(self, review: Review) -> None:
        bisect.insort(self._by_update, review, key=_by_update)
        self._star_sum += review.star
        self._other_orders.clear()

    def remove(self, review: Review) -> None:
        """Call before changing the review's sort fields (updateTime, rating)."""
        i = bisect.bisect_left(self._by_update, _by_update(review), key=_by_update)
        if i == len(self._by_update) or self._by_update[i] is not review:
            raise LookupError(f"review {review.review_id} is not in this index")
        del self._by_update[i]
        self._star_sum -= review.star
        self._other_orders.clear()

    def average_rating(self) -> float:
        if not self._by_update:
            return 0.0
        return round(self._star_sum / len(self._by_update), 1)

    def page(self, order: str, after: SortKey | None, size: int) -> tuple[list[Review], bool]:
        """Up to `size` reviews sorted after `after`, and whether more follow."""
        reviews = self._ordered(order)
        key = SORT_KEYS[order]
        start = 0 if after is None else bisect.bisect_right(reviews, after, key=key)
        chunk = reviews[start : start + size]
        return chunk, start + size < len(reviews)

    def _ordered(self, order: str) -> list[Review]:
        if order == "updateTime desc":
            return self._by_update
        if order not in self._other_orders:
            self._other_orders[order] = sorted(self._by_update, key=SORT_KEYS[order])
        return self._other_orders[order]
