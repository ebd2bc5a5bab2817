"""v4 reviews: paging, ordering, JSON shape, replies and edits made behind the client's back."""

from __future__ import annotations

import threading

import httpx
import pytest
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.credentials import Credentials

from connectors.sandbox import SandboxServer, SandboxState
from tests.sandbox.conftest import CLIENT_ID, CLIENT_SECRET, SCOPE


def parse_time(text: str) -> tuple[str, int]:
    """(whole seconds, nanoseconds): RFC3339 strings with 0-9 fraction digits sort wrongly."""
    whole, _, fraction = text.rstrip("Z").partition(".")
    return whole, int(fraction.ljust(9, "0"))


STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}


def list_all(api: httpx.Client, location: str, **params: object) -> list[dict]:
    reviews, token = [], None
    while True:
        query = {**params, **({"pageToken": token} if token else {})}
        page = api.get(f"/mybusiness/v4/{location}/reviews", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        reviews.extend(body.get("reviews", []))
        token = body.get("nextPageToken")
        if token is None:
            return reviews


def test_authorized_session_pages_through_every_review_exactly_once(
    urls: dict[str, str], tokens: dict[str, str], location: str
) -> None:
    credentials = Credentials(
        tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=urls["google_token_uri"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=[SCOPE],
    )
    session = AuthorizedSession(credentials)
    url = urls["google_mybusiness_url"] + f"v4/{location}/reviews"
    pages, token = [], None
    while True:
        body = session.get(url, params={"pageSize": 50, "pageToken": token}).json()
        pages.append(body)
        token = body.get("nextPageToken")
        if not token:
            break

    reviews = [r for page in pages for r in page["reviews"]]
    assert [len(page["reviews"]) for page in pages] == [50, 50, 20]
    assert len({r["reviewId"] for r in reviews}) == 120
    assert all(page["totalReviewCount"] == 120 for page in pages)
    assert 1 <= pages[0]["averageRating"] <= 5
    instants = [parse_time(r["updateTime"]) for r in reviews]
    assert instants == sorted(instants, reverse=True)
    assert all(r["name"] == f"{location}/reviews/{r['reviewId']}" for r in reviews)


def test_page_size_defaults_to_and_is_clamped_at_50(api: httpx.Client, location: str) -> None:
    url = f"/mybusiness/v4/{location}/reviews"
    assert len(api.get(url).json()["reviews"]) == 50
    assert len(api.get(url, params={"pageSize": 500}).json()["reviews"]) == 50
    assert len(api.get(url, params={"pageSize": 7}).json()["reviews"]) == 7


def test_page_tokens_are_opaque_and_checked(api: httpx.Client, state: SandboxState) -> None:
    first, second = (loc["name"] for loc in state.locations_summary()[:2])
    token = api.get(f"/mybusiness/v4/{first}/reviews").json()["nextPageToken"]
    assert "updateTime" not in token and not token.isdigit()

    for bad in ("garbage", token[:-2] + "AA", "50"):
        response = api.get(f"/mybusiness/v4/{first}/reviews", params={"pageToken": bad})
        assert response.status_code == 400
        assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    # A token belongs to its own list: another location or order rejects it.
    other = api.get(f"/mybusiness/v4/{second}/reviews", params={"pageToken": token})
    assert other.status_code == 400
    reordered = api.get(
        f"/mybusiness/v4/{first}/reviews", params={"pageToken": token, "orderBy": "rating"}
    )
    assert reordered.status_code == 400


def test_paging_is_stable_while_reviews_change(
    api: httpx.Client, state: SandboxState, location: str
) -> None:
    url = f"/mybusiness/v4/{location}/reviews"
    first = api.get(url, params={"pageSize": 40}).json()
    seen = [r["reviewId"] for r in first["reviews"]]
    untouched_later = [
        r["reviewId"] for r in list_all(api, location)[40:] if r["reviewId"] != seen[0]
    ]
    # Between pages: a new review arrives, a seen one is edited, a later one is deleted.
    state.create_review(location, "TWO", "Arrived mid-sync")
    state.edit_review(seen[5], comment="edited")
    deleted = untouched_later.pop(3)
    state.delete_review(deleted)

    token = first["nextPageToken"]
    rest: list[str] = []
    while token:
        page = api.get(url, params={"pageSize": 40, "pageToken": token}).json()
        rest.extend(r["reviewId"] for r in page.get("reviews", []))
        token = page.get("nextPageToken")
    assert rest == untouched_later


@pytest.mark.parametrize("order", ["rating", "rating desc"])
def test_rating_orders(api: httpx.Client, location: str, order: str) -> None:
    reviews = list_all(api, location, orderBy=order)
    stars = [STARS[r["starRating"]] for r in reviews]
    assert stars == sorted(stars, reverse=order == "rating desc")
    assert len({r["reviewId"] for r in reviews}) == 120


@pytest.mark.parametrize("order", ["updateTime", "updateTime asc", "createTime desc", "x"])
def test_unsupported_order_is_invalid(api: httpx.Client, location: str, order: str) -> None:
    response = api.get(f"/mybusiness/v4/{location}/reviews", params={"orderBy": order})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_empty_fields_are_omitted(api: httpx.Client, location: str) -> None:
    reviews = list_all(api, location)
    rating_only = [r for r in reviews if "comment" not in r]
    anonymous = [r for r in reviews if r["reviewer"].get("isAnonymous")]
    unanswered = [r for r in reviews if "reviewReply" not in r]
    assert rating_only and anonymous and unanswered
    assert all(r["reviewer"] == {"isAnonymous": True} for r in anonymous)
    named = [r for r in reviews if not r["reviewer"].get("isAnonymous")]
    assert all(set(r["reviewer"]) == {"displayName", "profilePhotoUrl"} for r in named)
    assert all(r.get("comment") != "" for r in reviews)


def test_location_without_reviews_omits_reviews_and_next_token(server: SandboxServer) -> None:
    empty = SandboxState.seeded(seed=2, locations=1, reviews_per_location=0)
    server.replace_state(empty)
    token = empty.mint_tokens()["access_token"]
    location = empty.locations_summary()[0]["name"]
    body = httpx.get(
        f"{server.url}/mybusiness/v4/{location}/reviews",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert body == {}


def test_unknown_account_location_or_review_is_404(
    api: httpx.Client, state: SandboxState, location: str
) -> None:
    account, _, location_id = location.split("/")[1:4]
    other_account = state.locations_summary()[1]["account"]
    review_id = list_all(api, location)[0]["reviewId"]
    for path in (
        f"accounts/999/locations/{location_id}/reviews",
        f"{other_account}/locations/{location_id}/reviews",
        f"accounts/{account}/locations/999/reviews",
        f"{location}/reviews/nope",
        f"accounts/-/locations/{location_id}/reviews/{review_id}",
    ):
        response = api.get(f"/mybusiness/v4/{path}")
        assert response.status_code == 404, path
        error = response.json()["error"]
        assert (error["code"], error["status"]) == (404, "NOT_FOUND")
        assert error["message"] == "Requested entity was not found."


def test_get_one_review(api: httpx.Client, location: str) -> None:
    listed = list_all(api, location)[3]
    fetched = api.get(f"/mybusiness/v4/{listed['name']}").json()
    assert fetched == listed


def test_reply_upsert_and_delete(
    api: httpx.Client, admin: httpx.Client, location: str, state: SandboxState
) -> None:
    review = next(r for r in list_all(api, location) if "reviewReply" not in r)
    url = f"/mybusiness/v4/{review['name']}/reply"

    created = api.put(url, json={"comment": "Thanks! 🙏"})
    assert created.status_code == 200
    assert set(created.json()) == {"comment", "updateTime", "reviewReplyState"}
    assert created.json()["reviewReplyState"] == "ACTIVE"
    updated = api.put(url, json={"comment": "Thank you, truly."}).json()
    assert parse_time(updated["updateTime"]) > parse_time(created.json()["updateTime"])

    now = api.get(f"/mybusiness/v4/{review['name']}").json()
    assert now["reviewReply"] == updated
    # Sandbox assumption: a reply bumps the review's updateTime.
    assert now["updateTime"] == updated["updateTime"]
    newest = api.get(f"/mybusiness/v4/{location}/reviews", params={"pageSize": 1}).json()
    assert newest["reviews"][0]["reviewId"] == review["reviewId"]

    assert api.delete(url).json() == {}
    assert "reviewReply" not in api.get(f"/mybusiness/v4/{review['name']}").json()

    calls = admin.get("/replies").json()
    assert [(c["method"], c["review"], c["comment"]) for c in calls] == [
        ("PUT", review["name"], "Thanks! 🙏"),
        ("PUT", review["name"], "Thank you, truly."),
        ("DELETE", review["name"], None),
    ]
    assert all(c["at"].endswith("Z") for c in calls)


def test_reply_comment_limit_is_4096_utf8_bytes(api: httpx.Client, location: str) -> None:
    review = list_all(api, location)[0]
    url = f"/mybusiness/v4/{review['name']}/reply"
    assert api.put(url, json={"comment": "é" * 2048}).status_code == 200  # 4096 bytes
    too_long = api.put(url, json={"comment": "é" * 2048 + "x"})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert api.put(url, json={}).status_code == 400
    assert api.put(url, content=b"not json").status_code == 400


def test_admin_edits_are_visible_to_the_api(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    created = admin.post(
        "/reviews",
        json={
            "location": location,
            "starRating": "TWO",
            "comment": "Cold coffee",
            "reviewer": {"displayName": "Pat Q."},
        },
    )
    assert created.status_code == 201
    review = created.json()
    assert review["createTime"] == review["updateTime"]
    newest = api.get(f"/mybusiness/v4/{location}/reviews", params={"pageSize": 1}).json()
    assert newest["reviews"][0] == review
    assert newest["totalReviewCount"] == 121

    edited = admin.patch(
        f"/reviews/{review['reviewId']}", json={"comment": "Fixed!", "starRating": "FIVE"}
    ).json()
    assert (edited["comment"], edited["starRating"]) == ("Fixed!", "FIVE")
    assert parse_time(edited["updateTime"]) > parse_time(review["updateTime"])
    owner_reply = admin.patch(
        f"/reviews/{review['reviewId']}", json={"reviewReply": {"comment": "Glad to hear"}}
    ).json()
    assert owner_reply["reviewReply"]["comment"] == "Glad to hear"
    removed = admin.patch(f"/reviews/{review['reviewId']}", json={"reviewReply": None}).json()
    assert "reviewReply" not in removed
    assert api.get(f"/mybusiness/v4/{review['name']}").json() == removed

    assert admin.delete(f"/reviews/{review['reviewId']}").json() == {}
    assert api.get(f"/mybusiness/v4/{review['name']}").status_code == 404
    assert admin.delete(f"/reviews/{review['reviewId']}").status_code == 404


def test_admin_rejects_bad_input(admin: httpx.Client, location: str) -> None:
    assert admin.post("/reviews", json={"location": "accounts/1/locations/2"}).status_code == 404
    bad_star = admin.post("/reviews", json={"location": location, "starRating": "SIX"})
    assert bad_star.status_code == 400
    assert admin.patch("/reviews/nope", json={"comment": "x"}).status_code == 404


def test_batch_get_reviews_merges_locations(api: httpx.Client, state: SandboxState) -> None:
    names = [loc["name"] for loc in state.locations_summary()]  # across both accounts
    seen, token = [], None
    while True:
        body = {"locationNames": names, "pageSize": 50, "pageToken": token}
        page = api.post("/mybusiness/v4/accounts/-/locations:batchGetReviews", json=body).json()
        seen.extend(page["locationReviews"])
        token = page.get("nextPageToken")
        if not token:
            break
    assert len({item["review"]["reviewId"] for item in seen}) == 360
    assert {item["name"] for item in seen} == set(names)


def test_listing_survives_concurrent_edits(
    api: httpx.Client, state: SandboxState, location: str
) -> None:
    ids = [r["reviewId"] for r in list_all(api, location)]
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            state.edit_review(ids[i % len(ids)], comment=f"edit {i}")
            i += 1

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        for _ in range(5):
            listed = [r["reviewId"] for r in list_all(api, location)]
            assert len(listed) == len(set(listed)) <= 120
    finally:
        stop.set()
        worker.join()


def test_v4_account_wildcard_is_off_unless_enabled(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    wildcard = "accounts/-/" + location.split("/", 2)[2] + "/reviews"
    assert api.get(f"/mybusiness/v4/{wildcard}").status_code == 404
    admin.patch("/google/settings", json={"v4_account_wildcard": True})
    reviews = api.get(f"/mybusiness/v4/{wildcard}").json()["reviews"]
    assert reviews[0]["name"].startswith(location)  # names carry the real account


def test_admin_lists_tokens_and_mints_them(admin: httpx.Client, tokens: dict[str, str]) -> None:
    minted = admin.post("/google/tokens", json={}).json()
    listed = admin.get("/tokens").json()
    issued = {t["access_token"] for t in listed["access_tokens"]}
    assert {tokens["access_token"], minted["access_token"]} <= issued
    assert all(t["valid"] for t in listed["access_tokens"])
