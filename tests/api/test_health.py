"""Liveness and readiness."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.routers import health


def test_healthz(client: TestClient):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_database_and_broker(client: TestClient):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_readyz_names_the_failing_check(client: TestClient, monkeypatch: pytest.MonkeyPatch):
    def unreachable() -> None:
        raise ConnectionError("redis://:hunter2@broker:6379 refused")

    monkeypatch.setattr(health, "_ping_broker", unreachable)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "ok", "broker": "error: ConnectionError"}
    assert body["error"]["code"] == "unavailable"
    assert "hunter2" not in response.text
