"""Freshness within Google's quota: a simulated week of 10,000 locations in 500 organisations.

A virtual clock ticks every ``scheduler_tick_seconds``; every request goes through one per-
minute window of the quota. Two policies over the same world, in the same run:

- fixed: today's connection-wide syncs (every 15 minutes, every hour with push), each walking
  all the connection's locations, everything in one queue in front of the quota;
- policy: ``services.sync.polling``, the code the scheduler runs (pace, interval, budget,
  plan, observe), with replies, "sync now" and push-triggered syncs first.

The world: review rates heavy-tailed (most locations under one a month, a few over five a
day), each location's last 90 days known from its first sync (as plaudit's history import
gives it); 30 % of the organisations' accounts push, and 1 % of notifications are lost; 30 %
of reviews get a reply some hours later (one request); each organisation asks for "sync now"
about once a day. Printed: the delay from a review being posted to it being found (p50, p95,
max), requests per review found, the most requests in one minute, and the worst
organisation's p95 against the median organisation's (organisations with at least
``MIN_ORG_REVIEWS`` reviews in the week; a p95 of three reviews means nothing).

    .venv/bin/python -m bench.freshness [--days 7] [--seed 1]
"""

from __future__ import annotations

import argparse
import heapq
import math
import os
import random
import statistics
import time
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field

from services.sync import polling

LOCATIONS, ORGANISATIONS = 10_000, 500
QUOTA = 300  # Google: requests a minute per project
TICK = 5.0  # the scheduler's default tick
FIXED_INTERVAL, FIXED_PUSH_INTERVAL = 900.0, 3600.0  # today's sync_interval_seconds, push's
PUSH_SHARE, PUSH_LOSS = 0.30, 0.01
REPLY_SHARE, REPLY_AFTER = 0.30, 6 * 3600.0
MANUAL_PER_DAY = 1.0
HISTORY_DAYS = 90.0
PACE_EVERY = 300.0
# An organisation's p95 over fewer reviews than this is its maximum, not a percentile; the
# fairness is also printed over organisations with 20 or more (there the p95 is the maximum).
MIN_ORG_REVIEWS = 50


@dataclass
class World:
    organisation: list[int]  # per location
    push: list[bool]  # per location (its organisation's account)
    rate: list[float]  # true reviews a day
    arrivals: list[list[float]]  # per location, sorted
    history: list[int]  # reviews in the 90 days before the week
    members: list[list[int]]  # per organisation, its locations
    events: list[tuple[float, int, str, int]]  # (time, seq, "reply"|"push"|"manual", subject)


def build_world(seed: int, days: float) -> World:
    rng = random.Random(seed)
    horizon = days * polling.DAY
    # Organisation sizes: a few chains, many small businesses (Pareto), 10,000 in all.
    weights = [rng.paretovariate(1.2) for _ in range(ORGANISATIONS)]
    total = sum(weights)
    sizes = [max(1, int(w / total * LOCATIONS)) for w in weights]
    while sum(sizes) < LOCATIONS:
        sizes[rng.randrange(ORGANISATIONS)] += 1
    while sum(sizes) > LOCATIONS:
        i = rng.randrange(ORGANISATIONS)
        if sizes[i] > 1:
            sizes[i] -= 1
    pushing = set(rng.sample(range(ORGANISATIONS), int(ORGANISATIONS * PUSH_SHARE)))
    organisation, members = [], [[] for _ in range(ORGANISATIONS)]
    for org, size in enumerate(sizes):
        for _ in range(size):
            members[org].append(len(organisation))
            organisation.append(org)
    rates = []
    for _ in range(LOCATIONS):
        kind = rng.random()
        if kind < 0.75:  # quiet: under one review a month
            low, high = 0.003, 1 / 30
        elif kind < 0.97:
            low, high = 1 / 30, 5.0
        else:  # busy: over five a day
            low, high = 5.0, 20.0
        rates.append(math.exp(rng.uniform(math.log(low), math.log(high))))
    arrivals, history, events = [], [], []
    seq = 0
    for loc, rate in enumerate(rates):
        times, t = [], rng.expovariate(rate / polling.DAY)
        while t < horizon:
            times.append(t)
            t += rng.expovariate(rate / polling.DAY)
        arrivals.append(times)
        history.append(_poisson(rng, rate * HISTORY_DAYS))
        for posted in times:
            if organisation[loc] in pushing and rng.random() >= PUSH_LOSS:
                events.append((posted + 2.0, seq, "push", loc))
                seq += 1
            if rng.random() < REPLY_SHARE:
                events.append((posted + rng.expovariate(1 / REPLY_AFTER), seq, "reply", loc))
                seq += 1
    for org in range(ORGANISATIONS):
        t = rng.expovariate(MANUAL_PER_DAY / polling.DAY)
        while t < horizon:
            events.append((t, seq, "manual", org))
            seq += 1
            t += rng.expovariate(MANUAL_PER_DAY / polling.DAY)
    events = sorted(e for e in events if e[0] < horizon)
    push = [organisation[loc] in pushing for loc in range(LOCATIONS)]
    return World(organisation, push, rates, arrivals, history, members, events)


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass
class Outcome:
    delays: list[float] = field(default_factory=list)
    by_org: dict[int, list[float]] = field(default_factory=dict)
    sync_requests: int = 0
    max_per_minute: int = 0
    unfound: int = 0


class Quota:
    """One per-minute window, as ``connectors.limits.WindowLimiter`` counts it."""

    def __init__(self, outcome: Outcome) -> None:
        self.window, self.used, self.outcome = -1, 0, outcome

    def at(self, now: float) -> None:
        window = int(now // 60)
        if window != self.window:
            self.window, self.used = window, 0

    def take(self) -> bool:
        if self.used >= QUOTA:
            return False
        self.used += 1
        self.outcome.max_per_minute = max(self.outcome.max_per_minute, self.used)
        return True


class Locations:
    """What a poll finds: the reviews posted at a location since it was last read."""

    def __init__(self, world: World, outcome: Outcome) -> None:
        self.world, self.outcome = world, outcome
        self.read_up_to = [0] * LOCATIONS  # index into arrivals

    def poll(self, loc: int, now: float) -> int:
        self.outcome.sync_requests += 1
        times = self.world.arrivals[loc]
        start, end = self.read_up_to[loc], bisect_right(times, now)
        org = self.world.organisation[loc]
        for posted in times[start:end]:
            self.outcome.delays.append(now - posted)
            self.outcome.by_org.setdefault(org, []).append(now - posted)
        self.read_up_to[loc] = end
        return end - start

    def finish(self, horizon: float) -> None:
        # A review never found waited until the end of the week, at least.
        for loc, times in enumerate(self.world.arrivals):
            for posted in times[self.read_up_to[loc] :]:
                self.outcome.unfound += 1
                self.outcome.delays.append(horizon - posted)
                self.outcome.by_org.setdefault(self.world.organisation[loc], []).append(
                    horizon - posted
                )


def simulate_fixed(world: World, days: float) -> Outcome:
    """Today: a connection (one per organisation) is due every 15 minutes (an hour with push);
    its sync walks every location; every request waits its turn in one queue."""
    outcome, horizon = Outcome(), days * polling.DAY
    quota, locations = Quota(outcome), Locations(world, outcome)
    rng = random.Random(0)
    next_due = [rng.uniform(0, FIXED_INTERVAL) for _ in range(ORGANISATIONS)]
    queued = [False] * ORGANISATIONS
    work: deque[tuple[str, int]] = deque()
    events, e = world.events, 0
    now = 0.0
    while now < horizon:
        quota.at(now)
        while e < len(events) and events[e][0] <= now:
            _, _, kind, subject = events[e]
            if kind == "manual":
                _walk(work, world, subject)
            else:
                work.append((kind, subject))
            e += 1
        for org in range(ORGANISATIONS):
            if not queued[org] and next_due[org] <= now:
                queued[org] = True
                _walk(work, world, org)
        while work:
            kind, subject = work[0]
            if kind == "start":
                interval = (
                    FIXED_PUSH_INTERVAL
                    if world.push[world.members[subject][0]]
                    else (FIXED_INTERVAL)
                )
                next_due[subject] = now + interval
            elif kind == "end":
                queued[subject] = False
            elif not quota.take():
                break
            elif kind in ("poll", "push"):
                locations.poll(subject, now)
            work.popleft()
        now += TICK
    locations.finish(horizon)
    return outcome


def _walk(work: deque[tuple[str, int]], world: World, org: int) -> None:
    work.append(("start", org))
    work.extend(("poll", loc) for loc in world.members[org])
    work.append(("end", org))


def simulate_policy(world: World, days: float) -> Outcome:
    """The scheduler's policy: per-location due times, work that goes first, fair shares."""
    outcome, horizon = Outcome(), days * polling.DAY
    quota, locations = Quota(outcome), Locations(world, outcome)
    rng = random.Random(0)
    # What the first sync left: the history's count, a first poll within the old interval.
    seen = [(float(world.history[loc]), HISTORY_DAYS) for loc in range(LOCATIONS)]
    polled_at = [0.0] * LOCATIONS
    due = [(rng.uniform(0, FIXED_INTERVAL), loc) for loc in range(LOCATIONS)]
    heapq.heapify(due)
    pool: dict[int, polling.Candidate] = {}
    shares = {org: float(len(members)) for org, members in enumerate(world.members)}
    first: deque[tuple[str, int]] = deque()
    events, e = world.events, 0
    pace, paced_at, now = 0.0, -math.inf, 0.0

    def read(loc: int) -> None:
        found = locations.poll(loc, now)
        reviews, days_seen = seen[loc]
        seen[loc] = polling.observe(reviews, days_seen, found, (now - polled_at[loc]) / 86400)
        polled_at[loc] = now

    while now < horizon:
        quota.at(now)
        if now - paced_at >= PACE_EVERY:
            rates = [polling.review_rate(*seen[loc]) for loc in range(LOCATIONS)]
            bins = polling.histogram(zip(rates, world.push, strict=True))
            pace, paced_at = polling.pace(bins, QUOTA * 1440), now
        while e < len(events) and events[e][0] <= now:
            _, _, kind, subject = events[e]
            if kind == "manual":
                first.extend(("poll", loc) for loc in world.members[subject])
            else:
                first.append((kind, subject))
            e += 1
        while first and quota.take():
            kind, subject = first.popleft()
            if kind != "reply":
                read(subject)
        while due and due[0][0] <= now:
            at, loc = heapq.heappop(due)
            pool[loc] = polling.Candidate(loc, world.organisation[loc], at)
        allowed = polling.budget(
            quota=QUOTA, used=quota.used, reserved=len(first), now=now, tick_seconds=TICK
        )
        for candidate in polling.plan(pool.values(), allowed, shares):
            loc = candidate.location_id
            assert quota.take(), "the plan went over the quota"
            del pool[loc]
            read(loc)
            rate = polling.review_rate(*seen[loc])
            heapq.heappush(due, (now + polling.interval(rate, world.push[loc], pace), loc))
        now += TICK
    locations.finish(horizon)
    return outcome


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summary(outcome: Outcome) -> dict[str, float]:
    found = len(outcome.delays) - outcome.unfound
    org_p95 = _org_p95(outcome, MIN_ORG_REVIEWS)
    small = _org_p95(outcome, 20)
    return {
        "p50": percentile(outcome.delays, 0.5),
        "p95": percentile(outcome.delays, 0.95),
        "max": max(outcome.delays, default=0.0),
        "per_review": outcome.sync_requests / max(1, found),
        "max_minute": outcome.max_per_minute,
        "worst_org": max(org_p95, default=0.0),
        "median_org": statistics.median(org_p95) if org_p95 else 0.0,
        "orgs": len(org_p95),
        "worst_20": max(small, default=0.0) / max(statistics.median(small), 1e-9),
        "unfound": outcome.unfound,
    }


def _org_p95(outcome: Outcome, at_least: int) -> list[float]:
    return [percentile(d, 0.95) for d in outcome.by_org.values() if len(d) >= at_least]


def minutes(seconds: float) -> str:
    return f"{seconds / 60:7.1f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    started = time.monotonic()
    world = build_world(args.seed, args.days)
    reviews = sum(len(times) for times in world.arrivals)
    busy = sum(rate > 5 for rate in world.rate)
    quiet = sum(rate < 1 / 30 for rate in world.rate)
    print(
        f"{LOCATIONS} locations in {ORGANISATIONS} organisations, {args.days:g} simulated days, "
        f"{reviews} reviews ({quiet} locations under one a month, {busy} over five a day), "
        f"quota {QUOTA}/min, tick {TICK:g}s, load average {os.getloadavg()[0]:.2f}"
    )
    results = {}
    for name, simulate in (("fixed", simulate_fixed), ("policy", simulate_policy)):
        began = time.monotonic()
        results[name] = summary(simulate(world, args.days))
        results[name]["seconds"] = time.monotonic() - began
    print(
        f"{'':8} {'p50':>11} {'p95':>11} {'max':>11} {'req/review':>10} {'max/min':>8} "
        f"{'worst org p95':>14} {'median org p95':>15} {'unfound':>8}"
    )
    for name, r in results.items():
        print(
            f"{name:8} {minutes(r['p50'])} {minutes(r['p95'])} {minutes(r['max'])} "
            f"{r['per_review']:10.1f} {r['max_minute']:8.0f} {minutes(r['worst_org']):>14} "
            f"{minutes(r['median_org']):>15} {r['unfound']:8.0f}   ({r['seconds']:.0f}s)"
        )
    fixed, new = results["fixed"], results["policy"]
    ratio = fixed["p95"] / max(new["p95"], 1e-9)
    fairness = new["worst_org"] / max(new["median_org"], 1e-9)
    print(
        f"p95 {ratio:.1f}x lower than fixed (target >= 3x); max {new['max_minute']:.0f} "
        f"requests in a minute (quota {QUOTA}); worst organisation's p95 {fairness:.1f}x the "
        f"median's over {new['orgs']:.0f} organisations with >= {MIN_ORG_REVIEWS} reviews "
        f"(target <= 3x; {new['worst_20']:.1f}x over those with >= 20, fixed "
        f"{fixed['worst_20']:.1f}x); {time.monotonic() - started:.0f}s in all"
    )


if __name__ == "__main__":
    main()
