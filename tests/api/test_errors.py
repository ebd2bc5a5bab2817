"""Every failure has the same shape, and none leaks what it should not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import Person, error_of


def test_unknown_route_is_a_json_404(client: TestClient):
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert error_of(response) == {"code": "not_found", "message": "Not Found", "field": None}


def test_wrong_method_is_a_json_405_with_allow(client: TestClient):
    response = client.delete("/api/v1/auth/signup")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_path_ids_are_validated_not_500(client: TestClient, owner: Person):
    for path in ("/api/v1/items/abc", "/api/v1/items/0", f"/api/v1/items/{2**64}"):
        response = client.get(path, headers=owner.headers)

        assert response.status_code == 422, path
        assert error_of(response)["field"] == "item_id"


def test_an_unexpected_error_is_a_bare_500(db):
    app = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail: postgres://user:pw@host")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "trace-42"})

    assert response.status_code == 500
    assert error_of(response) == {"code": "internal", "message": "Internal error", "field": None}
    assert "secret" not in response.text
    assert response.headers["X-Request-ID"] == "trace-42"


def test_request_ids_are_echoed_when_sane_and_minted_otherwise(client: TestClient):
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    minted = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    fresh = client.get("/healthz")

    assert echoed.headers["X-Request-ID"] == "abc-123"
    assert len(minted.headers["X-Request-ID"]) == 32
    assert fresh.headers["X-Request-ID"] != minted.headers["X-Request-ID"]


def test_openapi_and_docs_are_served(client: TestClient):
    spec = client.get("/openapi.json").json()

    assert "/api/v1/items" in spec["paths"]
    assert "/healthz" in spec["paths"]
    validation = spec["paths"]["/api/v1/auth/signup"]["post"]["responses"]["422"]
    assert validation["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")
    assert client.get("/docs").status_code == 200
