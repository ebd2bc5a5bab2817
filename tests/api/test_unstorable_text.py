"""Text PostgreSQL cannot hold (NUL, lone surrogates) is a 422 naming the field, never a 500,
and a database error never copies the request's values into a log line."""

from __future__ import annotations

import logging
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from core.logs import JsonFormatter
from core.scrub import before_send
from models.db import get_engine
from tests.api.conftest import Person, error_of


def test_a_nul_in_a_redaction_pattern_is_a_422_naming_it(
    client: TestClient, owner: Person, caplog: pytest.LogCaptureFixture
):
    body = {"disabled_detectors": [], "patterns": [{"name": "x", "pattern": "MBR\x00-secret"}]}
    with caplog.at_level(logging.DEBUG):
        response = client.put("/api/v1/privacy/redaction", json=body, headers=owner.headers)
    assert response.status_code == 422
    assert error_of(response)["field"] == "patterns.0.pattern"
    assert "MBR" not in caplog.text


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        # free-form fields a schema does not type as SafeText still reach the guard
        ("/api/v1/templates", {"name": "n", "body": "a\x00b"}, "body"),
        ("/api/v1/webhook-endpoints", {"url": "https://example.com/\x00", "events": []}, "url"),
        ("/api/v1/privacy/requests", {"kind": "export", "reviewer_id": "r\x00"}, "reviewer_id"),
    ],
)
def test_unstorable_text_in_any_body_is_a_422_naming_the_field(
    client: TestClient, owner: Person, path: str, body: dict, field: str
):
    response = client.post(path, json=body, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert error_of(response)["field"] == field


def test_a_lone_surrogate_is_a_422_naming_the_field(client: TestClient, owner: Person):
    response = client.post(
        "/api/v1/templates",
        content=b'{"name": "n", "body": "\\ud800"}',
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert error_of(response)["field"] == "body"


def test_unstorable_text_in_a_query_or_path_is_a_422(client: TestClient, owner: Person):
    query = client.get("/api/v1/items", params={"q": "a\x00b"}, headers=owner.headers)
    assert query.status_code == 422
    assert error_of(query)["field"] == "q"
    path = client.get("/api/v1/mailbox/a%00b.eml", headers=owner.headers)
    assert path.status_code == 422


def test_a_database_error_does_not_carry_the_statements_values_into_a_log_line(db):
    secret = f"customer-{uuid.uuid4().hex}"  # not a literal: the stack shows source lines
    with pytest.raises(DBAPIError) as failure, get_engine().connect() as conn:
        conn.execute(text("SELECT CAST(:value AS integer)"), {"value": secret})
    # SQLAlchemy shows no parameters; the server's own message still quotes the value,
    assert "[parameters" not in str(failure.value)
    assert secret in str(failure.value)
    # so the log formatter withholds it, keeping the stack and the error's class
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom", None, failure._excinfo)
    line = JsonFormatter().format(record)
    assert secret not in line
    assert "InvalidTextRepresentation" in line and "test_unstorable_text.py" in line
    event = {"exception": {"values": [{"module": "psycopg2.errors", "value": str(failure.value)}]}}
    assert secret not in str(before_send(event, {}))
