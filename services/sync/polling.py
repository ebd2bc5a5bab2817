"""How Google's quota is spent on polls: the policy the scheduler and `bench/freshness.py` run.

Google counts requests per project (300 a minute), so polling every location at one interval
looks at a location with ten reviews a day as often as one with a review a year. Here each
location's interval follows its observed review rate: a poll is worth the reviews it is likely
to find, and the delay a review waits is half an interval on average, so intervals shrink as
the rate grows (as ``rate ** -EXPONENT``), scaled by one factor (the pace) that makes the
polls of every location add up to the quota left after the work that goes first. Push
locations are polled at a long fixed interval, as a safety net for lost notifications.

Every function is pure (state, ``now`` and the quota in; a decision out), so the benchmark
drives the same code the scheduler does. Times are seconds since the epoch.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

DAY = 86_400.0
# No location is polled more often: a busy location's reviews are already within the high
# percentiles' reach, and the polls are worth more at the locations just below it. At 5
# minutes the busiest organisations' p95 was 5 minutes and the slowest's 19–24 (3.7–4.9x, in
# bench/freshness.py over three seeds); at 7 the polls saved on every location with a review
# a day or more go to the slow ones (one with a review every ten days: from 26 to 17 minutes
# between polls), and the worst organisation's p95 comes within 2.5–2.7x of the median's for
# an overall p95 of 7 minutes instead of 5.5, still 3.5x better than fixed polling.
MIN_INTERVAL = 420.0
# A location without push is looked at least this often, whatever its rate.
MAX_INTERVAL = 3 * 3600.0
# Push locations: polling only catches what a lost notification missed.
PUSH_INTERVAL = 4 * 3600.0
# How strongly the interval follows the rate: 0.5 is the square-root rule that minimises the
# mean delay for a fixed number of polls; more favours the busy locations, where most reviews
# (and so the high percentiles) are. 0.7 with the bounds above gave the lowest p95 in
# bench/freshness.py of the settings tried (0.4–1.0, MIN_INTERVAL 120–420 s); the floor was
# then raised for fairness (see MIN_INTERVAL).
EXPONENT = 0.7
# Observations older than this count for less: a location's rate changes with the seasons.
MEMORY_DAYS = 30.0
# What a location without history is assumed to get: one review a month, worth a week's
# observation, so a few polls with nothing found do not send it to the longest interval.
PRIOR_REVIEWS, PRIOR_DAYS = 7 / 30, 7.0
# The share of the quota background polls plan for; the rest absorbs bursts of replies,
# "sync now" and push-triggered syncs without making them wait.
UTILISATION = 0.95
BINS_PER_DECADE = 20


@dataclass(frozen=True)
class Candidate:
    """A location that is due for a poll."""

    location_id: int
    organisation_id: int
    due_at: float


def review_rate(reviews: float, days: float) -> float:
    """Reviews a day, from what was found over how long it was watched, with the prior."""
    return (reviews + PRIOR_REVIEWS) / (days + PRIOR_DAYS)


def observe(reviews: float, days: float, found: int, elapsed_days: float) -> tuple[float, float]:
    """The location's (reviews, days) after a poll that found ``found`` new reviews
    ``elapsed_days`` after the previous one; older observations fade over ``MEMORY_DAYS``."""
    elapsed_days = max(0.0, elapsed_days)
    fade = math.exp(-elapsed_days / MEMORY_DAYS)
    return reviews * fade + found, days * fade + elapsed_days


def interval(rate: float, push: bool, pace: float) -> float:
    """Seconds until a location with ``rate`` reviews a day is polled again."""
    if push:
        return PUSH_INTERVAL
    return min(MAX_INTERVAL, max(MIN_INTERVAL, pace / max(rate, 1e-6) ** EXPONENT))


def histogram(locations: Iterable[tuple[float, bool]]) -> list[tuple[float, bool, int]]:
    """(rate, push) pairs counted into bins of 1/20th of a decade of rate: the pace of ten
    thousand locations is then a sum over a hundred bins, and off by well under 10 %."""
    counts: dict[tuple[int, bool], int] = defaultdict(int)
    for rate, push in locations:
        counts[(round(math.log10(max(rate, 1e-6)) * BINS_PER_DECADE), push)] += 1
    return [(10 ** (b / BINS_PER_DECADE), push, n) for (b, push), n in sorted(counts.items())]


def polls_per_day(bins: Iterable[tuple[float, bool, int]], pace: float) -> float:
    return sum(count * DAY / interval(rate, push, pace) for rate, push, count in bins)


def pace(bins: Sequence[tuple[float, bool, int]], requests_per_day: float) -> float:
    """The factor for which the polls of the locations in ``bins`` ((rate, push, how many))
    add up to ``UTILISATION`` of ``requests_per_day``; bisected, since the bounds on the
    interval make the sum piecewise."""
    target = requests_per_day * UTILISATION
    low, high = 1e-3, 1e9
    if polls_per_day(bins, high) > target:
        return high  # even the longest intervals do not fit: every location at its longest
    for _ in range(50):
        middle = math.sqrt(low * high)
        if polls_per_day(bins, middle) > target:
            low = middle
        else:
            high = middle
    return high


def budget(
    *, quota: int, used: int, reserved: int, now: float, tick_seconds: float, window: float = 60.0
) -> int:
    """How many polls one tick may start: what the quota's current window has left after what
    is used and what is reserved for the work that goes first, spread over the window's ticks
    still to come, so that polls are paced through the minute instead of spent at its start."""
    left = quota - used - reserved
    if left <= 0:
        return 0
    ticks_left = max(1, math.ceil((window - now % window) / tick_seconds))
    return min(left, math.ceil(left / ticks_left))


def plan(
    candidates: Iterable[Candidate], budget: int, shares: Mapping[int, float] | None = None
) -> list[Candidate]:
    """The due locations to poll now, at most ``budget``, the longest overdue first within an
    organisation. When not all of them fit, each organisation gets polls in proportion to its
    share (its number of locations, say; 1 each when ``shares`` is None): a chain's thousand
    due locations cannot hold up a shop's one, nor the shop's hold up the chain."""
    by_organisation: dict[int, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_organisation[candidate.organisation_id].append(candidate)
    # Weighted round robin: the organisation served least for its share goes next; ties go to
    # the one whose next location has waited longest.
    turns: list[tuple[float, float, int, int]] = []
    for organisation_id, due in by_organisation.items():
        due.sort(key=lambda c: (c.due_at, c.location_id))
        turns.append((0.0, due[0].due_at, organisation_id, 0))
    heapq.heapify(turns)
    chosen: list[Candidate] = []
    while turns and len(chosen) < budget:
        served, _, organisation_id, index = heapq.heappop(turns)
        due = by_organisation[organisation_id]
        chosen.append(due[index])
        if index + 1 < len(due):
            share = shares.get(organisation_id, 1.0) if shares is not None else 1.0
            step = served + 1.0 / max(share, 1e-9)
            heapq.heappush(turns, (step, due[index + 1].due_at, organisation_id, index + 1))
    return chosen
