"""Seeded data: deterministic, awkward in the ways real reviews are, and quick to build."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from connectors.sandbox import SandboxState

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
FRACTION = re.compile(r"\.(\d+)Z$")


def all_reviews(state: SandboxState) -> list[dict]:
    return [state.review(review_id) for review_id in state.reviews]


def test_same_seed_same_data_and_different_seed_different_data() -> None:
    def build(seed: int) -> SandboxState:
        return SandboxState.seeded(seed=seed, locations=2, reviews_per_location=30, anchor=ANCHOR)

    assert all_reviews(build(5)) == all_reviews(build(5))
    assert build(5).locations_summary() == build(5).locations_summary()
    assert all_reviews(build(5)) != all_reviews(build(6))


def test_fixture_mix() -> None:
    state = SandboxState.seeded(seed=1, locations=2, reviews_per_location=1000, anchor=ANCHOR)
    reviews = all_reviews(state)
    comments = [r.get("comment", "") for r in reviews]

    def share(predicate) -> float:
        return sum(1 for r in reviews if predicate(r)) / len(reviews)

    assert 0.10 < share(lambda r: "comment" not in r) < 0.20
    assert 0.02 < share(lambda r: r["reviewer"].get("isAnonymous")) < 0.08
    assert 0.15 < share(lambda r: "reviewReply" in r) < 0.25
    assert any(
        c.startswith("(Translated by Google) ") and "\n\n(Original)\n" in c for c in comments
    )
    assert any(re.search("[\u0590-\u05ff]", c) for c in comments)  # Hebrew
    assert any(re.search("[\u0600-\u06ff]", c) for c in comments)  # Arabic
    assert any(re.search("[\U0001f300-\U0001faff]", c) for c in comments)  # emoji
    assert any(len(c) == 4000 for c in comments)

    digits = {len(m.group(1)) if (m := FRACTION.search(r["createTime"])) else 0 for r in reviews}
    assert digits == {0, 3, 6, 9}
    for review in reviews:
        assert _instant(review["updateTime"]) >= _instant(review["createTime"])
        assert _instant(review["updateTime"]) <= ANCHOR.timestamp()
        assert _instant(review["createTime"]) >= ANCHOR.timestamp() - 2 * 366 * 86400


def _instant(text: str) -> float:
    whole, _, fraction = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(whole + "+00:00").timestamp() + float("0." + (fraction or "0"))


def test_large_seeds_are_fast() -> None:
    # This process's CPU time, not the clock's: the suite runs in parallel (and beside other
    # work), and seeding only computes, so waiting for a core is not its slowness.
    started = time.process_time()
    state = SandboxState.seeded(locations=1000, reviews_per_location=100)
    assert len(state.reviews) == 100_000
    assert time.process_time() - started < 5
