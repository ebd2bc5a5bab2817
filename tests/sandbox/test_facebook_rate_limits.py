"""The sandbox's Facebook rate limits at the wire (PROVIDERS.md §E, §G.6): usage headers in
Facebook's format on every answer, and refusals with Facebook's bodies once a budget is spent."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.sandbox import SandboxServer, SandboxState


@pytest.fixture
def server(running_server: SandboxServer) -> SandboxServer:
    running_server.replace_state(SandboxState.seeded(seed=3, facebook_pages=2))
    return running_server


def admin(server: SandboxServer, **settings) -> dict:
    answer = httpx.patch(f"{server.url}/_admin/facebook/settings", json=settings)
    assert answer.status_code == 200, answer.text
    return answer.json()


def graph(server: SandboxServer, path: str, token: str) -> httpx.Response:
    return httpx.get(f"{server.url}/facebook-graph/v21.0/{path}", params={"access_token": token})


def user_token(server: SandboxServer) -> str:
    return httpx.post(f"{server.url}/_admin/facebook/tokens").json()["access_token"]


def page_tokens(server: SandboxServer) -> dict[str, str]:
    pages = graph(server, "me/accounts", user_token(server)).json()["data"]
    return {page["id"]: page["access_token"] for page in pages}


def test_a_page_over_its_budget_is_refused_with_80001_and_the_minutes_to_regain_access(server):
    (first, first_token), (second, second_token) = page_tokens(server).items()
    admin(server, page_budget=2, window_seconds=3600)

    answers = [graph(server, f"{first}/ratings", first_token) for _ in range(3)]

    # Each answer reports the page's share of its budget, keyed by the page
    figures = [json.loads(a.headers["x-business-use-case-usage"]) for a in answers]
    assert [f[first][0]["call_count"] for f in figures] == [50, 100, 100]
    assert figures[0][first][0]["type"] == "pages"
    assert figures[0][first][0]["estimated_time_to_regain_access"] == 0
    # And the third is refused as Facebook does, with the wait in whole minutes
    refused = answers[2]
    assert [a.status_code for a in answers] == [200, 200, 400]
    error = refused.json()["error"]
    assert error["code"] == 80001 and error["type"] == "OAuthException"
    assert error["is_transient"] is True and error["fbtrace_id"]
    assert error["message"].startswith("(#80001) There have been too many calls")
    assert 1 <= figures[2][first][0]["estimated_time_to_regain_access"] <= 60
    # While another page has a budget of its own
    assert graph(server, f"{second}/ratings", second_token).status_code == 200
    assert admin(server)["refused"] == 1


def test_a_window_shorter_than_a_minute_announces_one_window_in_minutes(server):
    # A test's stand-in for Facebook's window: whole minutes would make every wait a minute
    page, token = next(iter(page_tokens(server).items()))
    admin(server, page_budget=1, window_seconds=30)
    graph(server, f"{page}/ratings", token)

    refused = graph(server, f"{page}/ratings", token)

    assert refused.json()["error"]["code"] == 80001
    usage = json.loads(refused.headers["x-business-use-case-usage"])[page][0]
    assert usage["call_count"] == 100 and usage["estimated_time_to_regain_access"] == 0.5


@pytest.mark.parametrize("code", [32, 613])
def test_the_page_refusal_can_be_the_older_page_limit_or_a_custom_one(server, code):
    page, token = next(iter(page_tokens(server).items()))
    admin(server, page_budget=1, page_refusal_code=code)
    graph(server, f"{page}/ratings", token)

    refused = graph(server, f"{page}/ratings", token)

    assert refused.json()["error"]["code"] == code
    usage = json.loads(refused.headers["x-business-use-case-usage"])[page][0]
    assert usage["call_count"] == 100 and usage["estimated_time_to_regain_access"] >= 1


def test_the_app_over_its_budget_is_refused_with_4_and_no_page_header(server):
    token = user_token(server)
    admin(server, app_budget=1)
    assert graph(server, "me", token).headers["x-app-usage"] == json.dumps(
        {"call_count": 100, "total_cputime": 1, "total_time": 1}
    )

    refused = graph(server, "me", token)

    assert refused.status_code == 400 and refused.json()["error"]["code"] == 4
    assert json.loads(refused.headers["x-app-usage"])["call_count"] == 100
    assert "x-business-use-case-usage" not in refused.headers


def test_without_a_budget_the_fixed_figures_are_reported_and_nothing_is_refused(server):
    page, token = next(iter(page_tokens(server).items()))
    admin(server, page_usage=85)
    answers = [graph(server, f"{page}/ratings", token) for _ in range(20)]
    assert {a.status_code for a in answers} == {200}
    usage = json.loads(answers[-1].headers["x-business-use-case-usage"])[page][0]
    assert usage["call_count"] == 85


def test_a_bad_budget_is_refused_naming_it(server):
    answer = httpx.patch(f"{server.url}/_admin/facebook/settings", json={"page_budget": 0})
    assert answer.status_code == 400 and "page_budget" in answer.text
    answer = httpx.patch(f"{server.url}/_admin/facebook/settings", json={"page_refusal_code": 4})
    assert answer.status_code == 400 and "page_refusal_code" in answer.text
