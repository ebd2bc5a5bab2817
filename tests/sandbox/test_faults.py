"""Faults injected through the admin API, seen the way connectors will see them."""

from __future__ import annotations

import time

import httpx
import pytest
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.credentials import Credentials

from connectors.sandbox.google_http import WWW_AUTHENTICATE
from tests.sandbox.conftest import CLIENT_ID, CLIENT_SECRET, SCOPE

REVIEWS = r"/mybusiness/v4/.*/reviews$"


@pytest.mark.parametrize(
    ("status", "canonical"),
    [
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
    ],
)
def test_injected_error_uses_googles_shape_once(
    api: httpx.Client, admin: httpx.Client, location: str, status: int, canonical: str
) -> None:
    created = admin.post("/faults", json={"path": REVIEWS, "status": status})
    assert created.status_code == 201 and "id" in created.json()

    failed = api.get(f"/mybusiness/v4/{location}/reviews")
    assert failed.status_code == status
    error = failed.json()["error"]
    assert (error["code"], error["status"]) == (status, canonical)
    assert error["message"]
    assert api.get(f"/mybusiness/v4/{location}/reviews").status_code == 200  # times=1


def test_429_carries_quota_details_and_retry_after(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/faults", json={"path": "/accountmanagement/", "status": 429, "retry_after": 7})
    response = api.get("/accountmanagement/v1/accounts")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    error = response.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    info = error["details"][0]
    assert info["reason"] == "RATE_LIMIT_EXCEEDED"
    assert info["metadata"]["service"] == "mybusinessaccountmanagement.googleapis.com"
    assert info["metadata"]["quota_limit_value"] == "300"
    assert error["details"][1]["@type"] == "type.googleapis.com/google.rpc.Help"


def test_403_flavours(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/faults", json={"path": "accounts", "status": 403, "reason": "SERVICE_DISABLED"})
    admin.post("/faults", json={"path": "accounts", "status": 403, "reason": "RATE_LIMIT_EXCEEDED"})
    disabled = api.get("/accountmanagement/v1/accounts").json()["error"]
    assert disabled["details"][0]["reason"] == "SERVICE_DISABLED"
    limited = api.get("/accountmanagement/v1/accounts").json()["error"]
    assert limited["errors"][0]["reason"] == "rateLimitExceeded"


def test_injected_401_has_the_header_and_authorized_session_refreshes_through_it(
    urls: dict[str, str], tokens: dict[str, str], admin: httpx.Client
) -> None:
    admin.post(
        "/faults",
        json={"path": "/accountmanagement/", "status": 401, "token": tokens["access_token"]},
    )
    raw = httpx.get(
        urls["google_account_management_url"] + "v1/accounts",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert raw.status_code == 401
    assert raw.headers["www-authenticate"] == WWW_AUTHENTICATE

    admin.post(
        "/faults",
        json={"path": "/accountmanagement/", "status": 401, "token": tokens["access_token"]},
    )
    credentials = Credentials(
        tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=urls["google_token_uri"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=[SCOPE],
    )
    response = AuthorizedSession(credentials).get(
        urls["google_account_management_url"] + "v1/accounts"
    )
    assert response.status_code == 200  # refreshed once, retried with the new token


def test_fault_filters_on_method_and_counts_times(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    admin.post("/faults", json={"path": "/reply$", "method": "PUT", "status": 503, "times": 2})
    review = api.get(f"/mybusiness/v4/{location}/reviews").json()["reviews"][0]
    url = f"/mybusiness/v4/{review['name']}/reply"
    assert api.delete(url).status_code == 200  # other method: untouched
    assert api.put(url, json={"comment": "a"}).status_code == 503
    assert api.put(url, json={"comment": "a"}).status_code == 503
    assert api.put(url, json={"comment": "a"}).status_code == 200


def test_forever_fault_until_cleared(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/faults", json={"path": "accounts", "status": 500, "times": -1})
    assert [api.get("/accountmanagement/v1/accounts").status_code for _ in range(3)] == [500] * 3
    assert admin.get("/faults").json()["faults"][0]["hits"] == 3
    admin.delete("/faults")
    assert api.get("/accountmanagement/v1/accounts").status_code == 200


def test_delay_only_is_a_slow_success(api: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/faults", json={"path": "accounts", "delay": 0.3})
    started = time.perf_counter()
    assert api.get("/accountmanagement/v1/accounts").status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_after_handling_records_the_reply_before_the_client_times_out(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    review = api.get(f"/mybusiness/v4/{location}/reviews").json()["reviews"][0]
    admin.post("/faults", json={"path": "/reply$", "delay": 1.0, "after_handling": True})

    with pytest.raises(httpx.ReadTimeout):
        api.put(f"/mybusiness/v4/{review['name']}/reply", json={"comment": "Sent"}, timeout=0.2)

    assert admin.get("/replies").json()[-1]["comment"] == "Sent"
    stored = api.get(f"/mybusiness/v4/{review['name']}").json()
    assert stored["reviewReply"]["comment"] == "Sent"


def test_after_handling_with_status_reports_failure_of_recorded_work(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    review = api.get(f"/mybusiness/v4/{location}/reviews").json()["reviews"][0]
    admin.post("/faults", json={"path": "/reply$", "status": 503, "after_handling": True})
    response = api.put(f"/mybusiness/v4/{review['name']}/reply", json={"comment": "Twice?"})
    assert response.status_code == 503
    stored = api.get(f"/mybusiness/v4/{review['name']}").json()
    assert stored["reviewReply"]["comment"] == "Twice?"


def test_drop_after_handling_applies_the_write_and_answers_nothing(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    review = api.get(f"/mybusiness/v4/{location}/reviews").json()["reviews"][0]
    created = admin.post(
        "/faults", json={"path": "/reply$", "method": "PUT", "drop": True, "after_handling": True}
    )
    assert created.status_code == 201

    # The connection closes before a status line: the client cannot know what happened.
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):  # a cut or a reset
        api.put(f"/mybusiness/v4/{review['name']}/reply", json={"comment": "Applied"})

    stored = api.get(f"/mybusiness/v4/{review['name']}").json()
    assert stored["reviewReply"]["comment"] == "Applied"
    dropped = admin.get("/requests/recent").json()["requests"][-2]
    assert (dropped["method"], dropped["status"]) == ("PUT", None)


def test_drop_before_handling_loses_the_request(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    review = api.get(f"/mybusiness/v4/{location}/reviews").json()["reviews"][0]
    admin.post("/faults", json={"path": "/reply$", "drop": True})

    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):  # a cut or a reset
        api.put(f"/mybusiness/v4/{review['name']}/reply", json={"comment": "Lost"})

    stored = api.get(f"/mybusiness/v4/{review['name']}").json()
    assert stored.get("reviewReply", {}).get("comment") != "Lost"
    assert api.put(f"/mybusiness/v4/{review['name']}/reply", json={"comment": "a"}).is_success


@pytest.mark.parametrize(
    ("kind", "broken"),
    [
        ("missing_id", lambda r: "reviewId" not in r and "name" not in r),
        ("bad_rating", lambda r: r["starRating"] == "SEVEN"),
        ("bad_time", lambda r: r["createTime"] == "yesterday"),
    ],
)
def test_malformed_review_in_an_otherwise_normal_page(
    api: httpx.Client, admin: httpx.Client, location: str, kind: str, broken
) -> None:
    url = f"/mybusiness/v4/{location}/reviews"
    clean = api.get(url).json()["reviews"]
    admin.post("/faults", json={"path": REVIEWS, "malformed_review": kind})

    page = api.get(url).json()
    assert page["nextPageToken"] and len(page["reviews"]) == 50
    bad = [i for i, r in enumerate(page["reviews"]) if broken(r)]
    assert len(bad) == 1
    others = [r for i, r in enumerate(page["reviews"]) if i != bad[0]]
    assert others == [r for i, r in enumerate(clean) if i != bad[0]]
    assert api.get(url).json()["reviews"] == clean  # used up


def test_malformed_review_true_picks_a_kind(
    api: httpx.Client, admin: httpx.Client, location: str
) -> None:
    url = f"/mybusiness/v4/{location}/reviews"
    clean = api.get(url).json()["reviews"]
    admin.post("/faults", json={"path": REVIEWS, "malformed_review": True})
    assert api.get(url).json()["reviews"] != clean


def test_token_endpoint_faults_use_oauth_shape(
    urls: dict[str, str], admin: httpx.Client, tokens
) -> None:
    admin.post("/faults", json={"path": "/google-oauth2/token", "status": 503})
    response = httpx.post(
        urls["google_token_uri"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


@pytest.mark.parametrize(
    "spec",
    [
        {"path": "x", "status": 418},
        {"path": "("},
        {"path": "x"},
        {"path": "x", "status": 500, "times": 0},
        {"path": "x", "malformed_review": "weird"},
        {"path": "x", "status": 500, "colour": "red"},
        {"path": "x", "status": 500, "drop": True},
        {"path": "x", "malformed_review": True, "drop": True},
    ],
)
def test_bad_fault_specs_are_rejected(admin: httpx.Client, spec: dict) -> None:
    assert admin.post("/faults", json=spec).status_code == 400


def test_request_counters(api: httpx.Client, admin: httpx.Client, location: str) -> None:
    admin.delete("/requests")
    for _ in range(3):
        api.get(f"/mybusiness/v4/{location}/reviews")
    api.get("/accountmanagement/v1/accounts")
    admin.get("/locations")  # admin traffic is not counted

    everything = admin.get("/requests").json()
    assert everything["total"] == 4
    reviews = admin.get("/requests", params={"path": "reviews$"}).json()
    assert reviews == {"total": 3, "paths": {f"/mybusiness/v4/{location}/reviews": 3}}
    recent = admin.get("/requests/recent").json()["requests"]
    assert [r["status"] for r in recent] == [200, 200, 200, 200]
    admin.delete("/requests")
    assert admin.get("/requests").json()["total"] == 0
