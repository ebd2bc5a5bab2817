"""The privacy API: redaction settings and requests, retention, data-subject requests."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from models import AuditEvent, Item, Reply, Role
from models.privacy import DataSubjectRequest
from tests.api.conftest import error_of
from tests.service_calls import process


def test_redaction_settings_round_trip_and_apply_to_ingest(client, owner, db):
    body = {
        "disabled_detectors": ["phone"],
        "patterns": [{"name": "member", "pattern": r"MBR-\d+"}],
    }
    saved = client.put("/api/v1/privacy/redaction", json=body, headers=owner.headers)
    assert saved.status_code == 200, saved.text
    assert client.get("/api/v1/privacy/redaction", headers=owner.headers).json() == body


def test_a_catastrophic_pattern_is_refused_naming_the_field(client, owner):
    body = {"patterns": [{"name": "ok", "pattern": "abc"}, {"name": "bad", "pattern": "(a+)+$"}]}
    response = client.put("/api/v1/privacy/redaction", json=body, headers=owner.headers)
    assert response.status_code == 422
    error = error_of(response)
    assert error["field"] == "patterns.1.pattern" and "backtracks" in error["message"]


def test_an_unknown_detector_is_a_422(client, owner):
    response = client.put(
        "/api/v1/privacy/redaction", json={"disabled_detectors": ["dna"]}, headers=owner.headers
    )
    assert response.status_code == 422
    assert error_of(response)["field"].startswith("disabled_detectors")


def test_redaction_on_request_replaces_the_span_and_audits_who_not_what(
    client, owner, make_item, db
):
    item = make_item(owner.organisation, text="Ask for Jo at the back door")
    response = client.post(
        f"/api/v1/privacy/items/{item.id}/redact",
        json={"start": 8, "end": 10},
        headers=owner.headers,
    )
    assert response.status_code == 204, response.text
    db.expire_all()
    assert db.get(Item, item.id).text == "Ask for [redacted:request] at the back door"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "item.redacted")).one()
    assert event.actor_user_id == owner.user.id and "Jo" not in str(event.details)

    whole = client.post(f"/api/v1/privacy/items/{item.id}/redact", json={}, headers=owner.headers)
    assert whole.status_code == 204
    db.expire_all()
    assert db.get(Item, item.id).text == "[redacted:request]"


def test_a_span_outside_the_text_is_a_422(client, owner, make_item):
    item = make_item(owner.organisation, text="short")
    response = client.post(
        f"/api/v1/privacy/items/{item.id}/redact",
        json={"start": 2, "end": 99},
        headers=owner.headers,
    )
    assert response.status_code == 422 and error_of(response)["field"] == "end"


def test_retention_is_read_and_changed_by_owners_only(client, owner, make_person):
    current = client.get("/api/v1/privacy/retention", headers=owner.headers).json()["days"]
    assert current["recipients"] == 90 and current["first_party_feedback"] is None
    changed = client.put(
        "/api/v1/privacy/retention",
        json={"days": {"sync_runs": 7, "audit_events": None}},
        headers=owner.headers,
    )
    assert (
        changed.json()["days"]["sync_runs"] == 7 and changed.json()["days"]["audit_events"] is None
    )
    admin = make_person(Role.ADMIN, owner.organisation)
    assert client.get("/api/v1/privacy/retention", headers=admin.headers).status_code == 403
    bad = client.put(
        "/api/v1/privacy/retention", json={"days": {"sync_runs": 0}}, headers=owner.headers
    )
    assert bad.status_code == 422 and error_of(bad)["field"] == "days.sync_runs"


def test_a_data_subject_export_through_the_api(client, owner, make_item, db):
    make_item(owner.organisation, author_external_id="fb-77", text="hello from 77")
    created = client.post(
        "/api/v1/privacy/requests", json={"kind": "export", "reviewer_id": "fb-77"},
        headers=owner.headers,
    )  # fmt: skip
    assert created.status_code == 202, created.text
    request = created.json()
    assert request["status"] == "received" and request["overdue"] is False

    process(request["id"])  # what the worker does with the message the API sent

    done = client.get(f"/api/v1/privacy/requests/{request['id']}", headers=owner.headers).json()
    assert done["status"] == "done"
    assert [i["text"] for i in done["export"]["items"]] == ["hello from 77"]


def test_overdue_requests_are_flagged(client, owner, db):
    created = client.post(
        "/api/v1/privacy/requests", json={"kind": "erasure", "email": "x@example.com"},
        headers=owner.headers,
    ).json()  # fmt: skip
    db.execute(
        text("UPDATE data_subject_requests SET due_at = now() - interval '1 day' WHERE id = :id"),
        {"id": created["id"]},
    )
    db.commit()
    listed = client.get("/api/v1/privacy/requests", headers=owner.headers).json()["requests"]
    assert [r["overdue"] for r in listed] == [True]
    assert db.scalars(select(DataSubjectRequest.email_index)).one() != "x@example.com"


def test_a_request_needs_exactly_one_subject(client, owner):
    response = client.post(
        "/api/v1/privacy/requests", json={"kind": "export"}, headers=owner.headers
    )
    assert response.status_code == 422


def test_a_reply_with_personal_data_is_refused_unless_confirmed(client, owner, make_item, db):
    item = make_item(owner.organisation)
    text = "Sorry! Call our manager on +44 20 7946 0958"
    refused = client.post(
        f"/api/v1/items/{item.id}/reply", json={"text": text}, headers=owner.headers
    )
    assert refused.status_code == 422
    error = error_of(refused)
    assert (
        error["code"] == "personal_data"
        and error["field"] == "text"
        and "phone" in error["message"]
    )
    assert "7946" not in error["message"]

    sent = client.post(
        f"/api/v1/items/{item.id}/reply",
        json={"text": text, "confirm_personal_data": True},
        headers=owner.headers,
    )
    assert sent.status_code == 202, sent.text


@pytest.mark.parametrize(
    "leak,kind",
    [
        ("4111 1111 1111 1111", "card"),
        ("DE89 3704 0044 0532 0130 00", "iban"),
        ("123-45-6789", "ssn"),
        ("Bearer Zx81kQ0pLm2NvB7cR4", "secret"),
    ],
)
def test_a_reply_with_a_card_id_or_credential_is_refused_even_when_confirmed(
    client, owner, make_item, db, leak, kind
):
    item = make_item(owner.organisation)
    for confirmed in (False, True):
        refused = client.post(
            f"/api/v1/items/{item.id}/reply",
            json={"text": f"Sorry! We refunded {leak}.", "confirm_personal_data": confirmed},
            headers=owner.headers,
        )
        assert refused.status_code == 422, refused.text
        error = error_of(refused)
        assert error["code"] == "personal_data" and error["field"] == "text"
        assert kind in error["message"] and "never published" in error["message"]
        assert leak not in refused.text
    assert db.scalars(select(Reply)).all() == []


def test_a_template_with_a_card_or_credential_is_refused_contact_details_are_not(client, owner):
    for leak in ("4111 1111 1111 1111", "Bearer Zx81kQ0pLm2NvB7cR4"):
        refused = client.post(
            "/api/v1/reply-templates",
            json={"name": "Refund", "body": f"Refunded to {leak}"},
            headers=owner.headers,
        )
        assert refused.status_code == 422, refused.text
        assert error_of(refused)["field"] == "body" and leak not in refused.text
    kept = client.post(
        "/api/v1/reply-templates",
        json={"name": "Contact", "body": "Thanks {{ reviewer_first_name }}! help@bakery.example"},
        headers=owner.headers,
    )
    assert kept.status_code == 201, kept.text
