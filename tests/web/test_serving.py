"""`plaudit api` serves the dashboard at `/`: long-cached hashed assets, a revalidated
index.html, the app for client routes, and never in the way of the API, its docs, the public
feedback pages or the webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import dashboard
from api.app import create_app

INDEX = '<!doctype html><html lang="en"><script type="module" src="/assets/index-abc123.js">'


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('app')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("outside the build")
    return tmp_path


@pytest.fixture
def client(db, dist: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(dashboard, "DIST", dist)
    with TestClient(create_app()) as test_client:
        yield test_client


def test_client_routes_get_the_app_revalidated_each_time(client: TestClient):
    for path in ("/", "/inbox", "/inbox/42?rating=5", "/connections", "/confirm-signup"):
        response = client.get(path)

        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"


def test_hashed_assets_are_cached_for_a_year_other_files_for_an_hour(client: TestClient):
    asset = client.get("/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in asset.headers["content-type"]

    assert client.get("/favicon.svg").headers["cache-control"] == "public, max-age=3600"

    # A page of an old build asking for a file that is gone: not HTML dressed as a script.
    missing = client.get("/assets/index-old999.js")
    assert missing.status_code == 404
    assert "html" not in missing.headers["content-type"]


def test_the_app_is_under_the_security_headers_and_a_csp_without_inline_code(client: TestClient):
    headers = client.get("/inbox").headers

    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"


def test_the_api_docs_and_public_pages_are_never_shadowed(client: TestClient):
    unknown = client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert client.get("/api").status_code == 404
    assert client.get("/api/v1/items").status_code == 401  # the API, asking for a token
    assert client.get("/api/v1/auth/login").status_code == 405  # POST only, as before
    assert client.post("/inbox").status_code in (404, 405)
    assert client.get("/openapi.json").json()["info"]["title"] == "plaudit"
    assert "swagger" in client.get("/docs").text.lower()
    assert client.get("/healthz").status_code == 200
    forged = client.get("/feedback/not-a-token")
    assert "This link is not valid" in forged.text
    assert client.get("/api/v1/webhooks/facebook").status_code != 200


def test_no_path_leaves_the_build(client: TestClient):
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"):
        response = client.get(path)
        assert "outside the build" not in response.text, path


def test_without_a_build_the_page_says_how_to_make_one(db, tmp_path, monkeypatch):
    monkeypatch.setattr(dashboard, "DIST", tmp_path / "nothing")
    with TestClient(create_app()) as client:
        response = client.get("/inbox")

    assert response.status_code == 503
    assert "make run" in response.text
    assert client.get("/api/v1/nothing-here").status_code == 404


def test_a_route_added_after_the_app_is_built_is_not_shadowed(client: TestClient):
    @client.app.get("/later/{name}")
    def later(name: str) -> dict[str, str]:
        return {"name": name}

    assert client.get("/later/x").json() == {"name": "x"}
    assert client.get("/somewhere-else").text == INDEX
