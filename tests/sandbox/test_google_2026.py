"""Google's 2026 review fields (PROVIDERS.md §G.1) and the edits limit (§G.3), over HTTP."""

from __future__ import annotations

import httpx

from connectors.sandbox import SandboxState
from connectors.sandbox.seed import seeded_media
from tests.sandbox.test_reviews import list_all


def test_some_reviews_carry_media_deterministically_and_all_a_reply_url(
    api: httpx.Client, location: str
) -> None:
    reviews = list_all(api, location)
    with_media = [r for r in reviews if "reviewMediaItems" in r]
    assert 0 < len(with_media) < len(reviews) // 2
    for review in with_media:
        assert review["reviewMediaItems"] == seeded_media(review["reviewId"])
        assert all(m["thumbnailUrl"].startswith("https://") for m in review["reviewMediaItems"])
    assert any("videoUrl" in m for r in with_media for m in r["reviewMediaItems"])
    urls = {r["reviewReplyUrl"] for r in reviews}
    assert len(urls) == len(reviews) and all(u.startswith("https://") for u in urls)
    again = SandboxState.seeded(seed=7, accounts=2, locations=3, reviews_per_location=120)
    first = again.review(with_media[0]["reviewId"])
    assert first is not None and first["reviewMediaItems"] == with_media[0]["reviewMediaItems"]


def test_media_are_set_through_the_admin_api(api: httpx.Client, admin: httpx.Client) -> None:
    review = admin.post(
        "/reviews",
        json={
            "location": admin.get("/locations").json()["locations"][0]["name"],
            "comment": "Look",
        },
    ).json()
    assert "reviewMediaItems" not in review
    media = [{"thumbnailUrl": "https://t/1", "videoUrl": "https://v/1"}, {"thumbnailUrl": "x"}]
    patched = admin.patch(f"/reviews/{review['reviewId']}", json={"reviewMediaItems": media})
    assert patched.status_code == 200
    assert api.get(f"/mybusiness/v4/{review['name']}").json()["reviewMediaItems"] == media
    bad = admin.patch(f"/reviews/{review['reviewId']}", json={"reviewMediaItems": ["no"]})
    assert bad.status_code == 400


def _unanswered(api: httpx.Client, location: str) -> list[dict]:
    return [r for r in list_all(api, location) if "reviewReply" not in r]


def test_a_reply_is_published_at_once_by_default(api: httpx.Client, location: str) -> None:
    review = _unanswered(api, location)[0]
    answer = api.put(f"/mybusiness/v4/{review['name']}/reply", json={"comment": "Hi"}).json()
    assert answer["reviewReplyState"] == "ACTIVE" and "policyViolation" not in answer


def test_a_pending_reply_is_moderated_later(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    assert admin.patch("/google/settings", json={"reply_moderation": "PENDING"}).status_code == 200
    review = _unanswered(api, location)[0]
    url = f"/mybusiness/v4/{review['name']}/reply"
    assert api.put(url, json={"comment": "Hi"}).json()["reviewReplyState"] == "PENDING"
    before = api.get(f"/mybusiness/v4/{review['name']}").json()
    verdict = admin.post(
        f"/reviews/{review['reviewId']}/reply/moderation",
        json={"state": "REJECTED", "policyViolation": "CONTAINS_PII"},
    )
    assert verdict.status_code == 200
    after = api.get(f"/mybusiness/v4/{review['name']}").json()
    assert after["reviewReply"]["reviewReplyState"] == "REJECTED"
    assert after["reviewReply"]["policyViolation"] == "CONTAINS_PII"
    assert after["updateTime"] == before["updateTime"]  # only a re-read shows the verdict
    approved = admin.post(
        f"/reviews/{review['reviewId']}/reply/moderation", json={"state": "ACTIVE"}
    ).json()
    assert approved["reviewReply"]["reviewReplyState"] == "ACTIVE"
    assert "policyViolation" not in approved["reviewReply"]
    assert (
        admin.post(
            f"/reviews/{review['reviewId']}/reply/moderation", json={"state": "MAYBE"}
        ).status_code
        == 400
    )


def test_replies_can_be_rejected_at_once_with_a_violation(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    admin.patch(
        "/google/settings", json={"reply_moderation": "REJECTED", "reply_violation": "SPAM"}
    )
    review = _unanswered(api, location)[0]
    answer = api.put(f"/mybusiness/v4/{review['name']}/reply", json={"comment": "Buy!"}).json()
    assert answer["reviewReplyState"] == "REJECTED" and answer["policyViolation"] == "SPAM"


def test_ten_reply_writes_a_minute_per_location(
    api: httpx.Client, admin: httpx.Client, state: SandboxState
) -> None:
    first, second = (loc["name"] for loc in state.locations_summary()[:2])
    targets = _unanswered(api, first)[:11]
    answers = [
        api.put(f"/mybusiness/v4/{r['name']}/reply", json={"comment": "Thanks"}) for r in targets
    ]
    assert [a.status_code for a in answers] == [200] * 10 + [429]
    error = answers[-1].json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED" and error["code"] == 429
    assert error["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    # Deletes count too; another location is not held back; refused writes change nothing.
    assert api.delete(f"/mybusiness/v4/{targets[0]['name']}/reply").status_code == 429
    assert "reviewReply" not in api.get(f"/mybusiness/v4/{targets[-1]['name']}").json()
    other = _unanswered(api, second)[0]
    assert api.put(f"/mybusiness/v4/{other['name']}/reply", json={"comment": "Hi"}).is_success
    statuses = [call["status"] for call in admin.get("/replies").json()]
    assert statuses.count(429) == 2
