"""CORS from the allow-list only, and security headers on every response."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.app import create_app


def test_cors_answers_only_allowed_origins(db, configure: Callable[..., None]):
    configure(cors_allowed_origins="https://app.example.com, https://admin.example.com")
    preflight = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "X-API-Key",
    }

    with TestClient(create_app()) as client:
        allowed = client.options(
            "/api/v1/items", headers={"Origin": "https://admin.example.com"} | preflight
        )
        refused = client.options(
            "/api/v1/items", headers={"Origin": "https://evil.example"} | preflight
        )

    assert allowed.headers["Access-Control-Allow-Origin"] == "https://admin.example.com"
    assert "access-control-allow-origin" not in refused.headers


def test_without_an_allow_list_no_origin_is_allowed(client: TestClient):
    response = client.get("/healthz", headers={"Origin": "https://app.example.com"})

    assert "access-control-allow-origin" not in response.headers


def test_security_headers_are_on_every_response(client: TestClient):
    for path in ("/healthz", "/api/v1/items", "/api/v1/nothing", "/docs"):
        headers = client.get(path).headers

        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
        assert headers["X-Request-ID"], path
    assert client.get("/api/v1/items").headers["Cache-Control"] == "no-store"
