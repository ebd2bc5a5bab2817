"""Every failure has the same shape, and none leaks what it should not."""

from __future__ import annotations

import re

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


MEMBER_SCHEMES = {"HTTPBearer", "APIKeyHeader"}


def _secured_operations(client: TestClient) -> list[tuple[str, str, dict]]:
    document = client.get("/openapi.json").json()
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]


def _concrete(path: str) -> str:
    """Any value will do in a path: credentials are checked before anything is looked up."""
    return re.sub(r"\{[^}]+\}", lambda m: "google" if m.group() == "{provider}" else "1", path)


def test_every_operation_that_asks_for_credentials_documents_401_and_403(client: TestClient):
    secured = _secured_operations(client)
    assert len(secured) > 50  # the walk reaches the API, not an empty document

    undocumented = [
        f"{method.upper()} {path} {status}"
        for method, path, operation in secured
        for status in ("401", "403")
        if status not in operation["responses"]
    ]
    assert undocumented == []


def test_every_operation_that_asks_for_credentials_answers_401_to_bad_ones(client: TestClient):
    member_operations = [
        (method, path)
        for method, path, operation in _secured_operations(client)
        if MEMBER_SCHEMES & {name for scheme in operation["security"] for name in scheme}
    ]  # the rest are Postmark's webhooks, on HTTP Basic: tests/feedback covers them
    assert len(member_operations) > 50
    for method, path in member_operations:
        for headers in ({"X-API-Key": "plaudit_not-a-key"}, {"Authorization": "Bearer not.a.jwt"}):
            response = client.request(method, _concrete(path), headers=headers, json={})

            assert response.status_code == 401, (method, path, headers, response.text)
            assert error_of(response)["code"] in {"invalid_api_key", "invalid_token"}
