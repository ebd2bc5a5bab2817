"""The OAuth web-server flow, driven by google-auth-oauthlib and google-auth themselves."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import AuthorizedSession, Request
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError

from tests.sandbox.conftest import CLIENT_ID, CLIENT_SECRET, SCOPE

REDIRECT_URI = "http://localhost:8000/callback"


@pytest.fixture(autouse=True)
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def make_flow(urls: dict[str, str], **kwargs: object) -> Flow:
    config = {
        "web": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "auth_uri": urls["google_auth_uri"],
            "token_uri": urls["google_token_uri"],
            "redirect_uris": [REDIRECT_URI],
        }
    }
    return Flow.from_client_config(config, scopes=[SCOPE], redirect_uri=REDIRECT_URI, **kwargs)


def consent(auth_url: str, decision: str = "allow") -> dict[str, list[str]]:
    response = httpx.get(auth_url + f"&sandbox_decision={decision}")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return parse_qs(urlsplit(location).query)


def test_pkce_web_flow_yields_tokens_that_call_the_api(urls: dict[str, str]) -> None:
    flow = make_flow(urls)
    auth_url, state = flow.authorization_url(prompt="consent")
    callback = consent(auth_url)
    assert callback["state"] == [state]
    assert callback["scope"] == [SCOPE]

    # The callback usually builds a new Flow, carrying the verifier over from the session.
    callback_flow = make_flow(urls, code_verifier=flow.code_verifier)
    token = callback_flow.fetch_token(code=callback["code"][0])

    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3599
    assert token["scope"] == [SCOPE]
    credentials = callback_flow.credentials
    assert credentials.refresh_token
    session = AuthorizedSession(credentials)
    listed = session.get(urls["google_account_management_url"] + "v1/accounts")
    assert listed.status_code == 200


def test_consent_page_posts_allow_and_deny(urls: dict[str, str]) -> None:
    auth_url, _ = make_flow(urls).authorization_url(state="xyz")
    page = httpx.get(auth_url)
    assert page.status_code == 200
    assert 'name="decision" value="allow"' in page.text

    allowed = httpx.post(auth_url, data={"decision": "allow"})
    assert allowed.status_code == 303
    assert "code=" in allowed.headers["location"]

    denied = httpx.post(auth_url, data={"decision": "deny"})
    assert parse_qs(urlsplit(denied.headers["location"]).query) == {
        "error": ["access_denied"],
        "state": ["xyz"],
    }


def test_sandbox_decision_deny_redirects_with_access_denied(urls: dict[str, str]) -> None:
    auth_url, state = make_flow(urls).authorization_url()
    assert consent(auth_url, "deny") == {"error": ["access_denied"], "state": [state]}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"client_id": "nobody"}, "invalid_client"),
        ({"redirect_uri": ""}, "redirect_uri"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": ""}, "scope"),
    ],
)
def test_bad_authorization_request_is_an_html_400(
    urls: dict[str, str], change: dict[str, str], problem: str
) -> None:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        **change,
    }
    response = httpx.get(urls["google_auth_uri"], params=params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert problem in response.text


def test_legacy_authorization_path_is_accepted(server, urls: dict[str, str]) -> None:
    auth_url, _ = make_flow(urls).authorization_url()
    legacy = auth_url.replace("/o/oauth2/v2/auth", "/o/oauth2/auth")
    assert "code" in consent(legacy)


def test_missing_or_wrong_code_verifier_is_rejected(urls: dict[str, str]) -> None:
    flow = make_flow(urls)
    auth_url, _ = flow.authorization_url()
    code = consent(auth_url)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }

    missing = httpx.post(urls["google_token_uri"], data=form)
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "invalid_grant",
        "error_description": "Missing code verifier.",
    }

    with pytest.raises(InvalidGrantError):
        make_flow(urls, code_verifier="x" * 64).fetch_token(code=code)

    # Failed attempts do not burn the code; the right verifier still works.
    token = make_flow(urls, code_verifier=flow.code_verifier).fetch_token(code=code)
    assert token["access_token"]


def test_code_is_single_use(urls: dict[str, str]) -> None:
    flow = make_flow(urls)
    auth_url, _ = flow.authorization_url()
    code = consent(auth_url)["code"][0]
    flow.fetch_token(code=code)

    again = make_flow(urls, code_verifier=flow.code_verifier)
    with pytest.raises(InvalidGrantError):
        again.fetch_token(code=code)


def test_token_endpoint_rejects_unknown_client_and_redirect_mismatch(urls: dict[str, str]) -> None:
    flow = make_flow(urls)
    auth_url, _ = flow.authorization_url()
    code = consent(auth_url)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": "wrong",
        "code_verifier": flow.code_verifier,
    }
    wrong_secret = httpx.post(urls["google_token_uri"], data=form)
    assert wrong_secret.status_code == 401
    assert wrong_secret.json() == {
        "error": "invalid_client",
        "error_description": "The OAuth client was not found.",
    }
    form |= {"client_secret": CLIENT_SECRET, "redirect_uri": "http://localhost/elsewhere"}
    mismatch = httpx.post(urls["google_token_uri"], data=form)
    assert mismatch.status_code == 400
    assert mismatch.json()["error"] == "redirect_uri_mismatch"
    assert mismatch.headers["content-type"].startswith("application/json")


def credentials_for(urls: dict[str, str], tokens: dict[str, str]) -> Credentials:
    return Credentials(
        token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=urls["google_token_uri"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=[SCOPE],
    )


def test_refresh_gives_a_new_access_token_without_a_refresh_token(
    urls: dict[str, str], tokens: dict[str, str]
) -> None:
    credentials = credentials_for(urls, tokens)
    credentials.refresh(Request())
    assert credentials.token != tokens["access_token"]
    assert credentials.refresh_token == tokens["refresh_token"]  # kept: none came back

    raw = httpx.post(
        urls["google_token_uri"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    ).json()
    assert set(raw) == {"access_token", "expires_in", "scope", "token_type"}


def test_revoked_refresh_token_raises_refresh_error_and_kills_its_access_tokens(
    urls: dict[str, str], tokens: dict[str, str], admin: httpx.Client, api: httpx.Client
) -> None:
    revoked = admin.post("/google/revoke", json={"refresh_token": tokens["refresh_token"]})
    assert revoked.json() == {"revoked": 1}

    with pytest.raises(RefreshError) as caught:
        credentials_for(urls, tokens).refresh(Request())
    assert "invalid_grant: Token has been expired or revoked." in str(caught.value)
    assert caught.value.retryable is False
    assert api.get("/accountmanagement/v1/accounts").status_code == 401


def test_expired_access_token_is_refreshed_transparently(
    urls: dict[str, str], tokens: dict[str, str], admin: httpx.Client, api: httpx.Client
) -> None:
    assert admin.post("/google/expire-access-tokens").json()["expired"] >= 1
    assert api.get("/accountmanagement/v1/accounts").status_code == 401

    session = AuthorizedSession(credentials_for(urls, tokens))
    response = session.get(urls["google_account_management_url"] + "v1/accounts")
    assert response.status_code == 200
    assert session.credentials.token != tokens["access_token"]


def test_refresh_token_only_on_first_consent_mode(
    urls: dict[str, str], admin: httpx.Client
) -> None:
    admin.patch("/google/settings", json={"refresh_token_on_first_consent_only": True})
    first = make_flow(urls)
    first.fetch_token(code=consent(first.authorization_url()[0])["code"][0])
    second = make_flow(urls)
    token = second.fetch_token(code=consent(second.authorization_url()[0])["code"][0])
    assert first.credentials.refresh_token
    assert "refresh_token" not in token
    third = make_flow(urls)
    token = third.fetch_token(code=consent(third.authorization_url(prompt="consent")[0])["code"][0])
    assert token["refresh_token"]
