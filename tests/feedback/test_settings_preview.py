"""The feedback settings' preview: the e-mail and the public page with unsaved branding, for
the dashboard's frames; only ever of the caller's organisation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import error_of

PREVIEW = "/api/v1/feedback/settings/preview"


def test_the_preview_shows_the_draft_branding_without_saving_it(client: TestClient, owner):
    out = client.post(
        PREVIEW,
        headers=owner.headers,
        json={"brand_colour": "#aa3300", "logo_url": "https://cdn.example.com/logo.png"},
    )

    assert out.status_code == 200, out.text
    body = out.json()
    assert owner.organisation.name in body["subject"]
    assert "Hello Alex" in body["text"]
    assert body["email_url"].startswith(PREVIEW + "/") and body["email_url"].endswith("/email")
    email = client.get(body["email_url"])  # a frame sends no credentials: the token is the key
    assert email.status_code == 200
    assert "#aa3300" in email.text and "https://cdn.example.com/logo.png" in email.text
    assert "frame-ancestors 'self'" in email.headers["Content-Security-Policy"]
    assert email.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert email.headers["Cache-Control"] == "no-store"
    page = client.get(body["page_url"])
    assert page.status_code == 200
    assert "--brand: #aa3300" in page.text and 'name="rating"' in page.text
    saved = client.get("/api/v1/feedback/settings", headers=owner.headers).json()
    assert saved["brand_colour"] is None and saved["logo_url"] is None


def test_an_unset_value_falls_back_to_the_saved_one(client: TestClient, owner):
    client.patch(
        "/api/v1/feedback/settings", headers=owner.headers, json={"brand_colour": "#112233"}
    )

    kept = client.post(PREVIEW, headers=owner.headers, json={}).json()
    reset = client.post(PREVIEW, headers=owner.headers, json={"brand_colour": None}).json()

    assert "#112233" in client.get(kept["email_url"]).text
    assert "#112233" not in client.get(reset["email_url"]).text


def test_a_bad_value_is_named_and_a_bad_token_is_not_found(client: TestClient, owner):
    bad = client.post(PREVIEW, headers=owner.headers, json={"brand_colour": "red"})
    assert bad.status_code == 422
    assert error_of(bad)["field"] == "brand_colour"

    good = client.post(PREVIEW, headers=owner.headers, json={}).json()["email_url"]
    token = good.split("/")[-2]
    forged = good.replace(token, token[:-2] + ("aa" if token[-2:] != "aa" else "bb"))
    assert client.get(forged).status_code == 404
    assert client.post(PREVIEW, json={}).status_code == 401


def test_the_preview_shows_the_callers_organisation_only(client: TestClient, make_person):
    ours, theirs = make_person(), make_person()
    client.patch(
        "/api/v1/feedback/settings", headers=theirs.headers, json={"brand_colour": "#445566"}
    )

    url = client.post(PREVIEW, headers=ours.headers, json={}).json()["email_url"]
    email = client.get(url).text

    assert ours.organisation.name in email
    assert theirs.organisation.name not in email and "#445566" not in email
