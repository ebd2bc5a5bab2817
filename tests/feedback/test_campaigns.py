"""Campaigns: uploads (CSV and JSON, bad rows, limits, duplicates, suppressions) and sending."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from api.schemas.feedback import MAX_RECIPIENTS
from core.crypto import blind_index
from models import EmailMessage, FeedbackSettings, Recipient, RecipientStatus, Suppression
from tests.api.conftest import error_of
from tests.feedback.helpers import campaign, link, location, send_now, upload_csv
from tests.service_calls import deliver_email, send_due_requests


def test_a_csv_with_broken_rows_keeps_the_good_ones_and_reports_the_others_by_line(
    client, owner, db
):
    place = location(db, owner.organisation.id)
    campaign_id = campaign(client, owner, place.id)
    csv_text = (
        "name,email,location_id,external_ref\n"
        "Ann,ann@example.com,,order-1\n"  # line 2: good
        ",nobody@example.com,,\n"  # line 3: no name
        "Bob,not-an-address,,\n"  # line 4: bad address
        "Cy,cy@example.com,999999,\n"  # line 5: someone else's location
        "Ann again,ANN@example.com,,\n"  # line 6: duplicate of line 2
        "Di,di@example.com,,,extra\n"  # line 7: too many cells
        f"Ed,ed@example.com,{place.id},\n"  # line 8: good
    )

    response = upload_csv(client, owner, campaign_id, csv_text)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["merged"], body["suppressed"]) == (2, 1, 0)
    assert [(r["line"], r["field"]) for r in body["rejected"]] == [
        (3, "name"),
        (4, "email"),
        (5, "location_id"),
        (7, None),
    ]
    assert body["rejected_count"] == 4
    # Uploading the same file again merges every good row into the existing ones.
    again = upload_csv(client, owner, campaign_id, csv_text).json()
    assert (again["accepted"], again["merged"]) == (0, 3)
    counts = client.get(f"/api/v1/campaigns/{campaign_id}", headers=owner.headers).json()
    assert counts["campaign"]["counts"]["queued"] == 2 and counts["campaign"]["total"] == 2
    listed = client.get(
        f"/api/v1/campaigns/{campaign_id}/recipients",
        params={"status": "queued", "limit": 1},
        headers=owner.headers,
    ).json()
    assert [(r["name"], r["email"], r["external_ref"]) for r in listed["recipients"]] == [
        ("Ann", "ann@example.com", "order-1")
    ]
    rest = client.get(
        f"/api/v1/campaigns/{campaign_id}/recipients",
        params={"cursor": listed["next_cursor"]},
        headers=owner.headers,
    ).json()
    assert [r["name"] for r in rest["recipients"]] == ["Ed"] and rest["next_cursor"] is None


def test_more_than_the_limit_is_refused_with_413_naming_the_limit(client, owner):
    campaign_id = campaign(client, owner)
    rows = [{"name": f"P{i}", "email": f"p{i}@example.com"} for i in range(60_000)]

    response = client.post(
        f"/api/v1/campaigns/{campaign_id}/recipients",
        content=json.dumps({"recipients": rows}),
        headers={**owner.headers, "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "too_many_recipients"
    assert f"{MAX_RECIPIENTS:,}" in error["message"] and "60,000" in error["message"]
    csv_text = "name,email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(60_000))
    assert upload_csv(client, owner, campaign_id, csv_text).status_code == 413


def test_neither_csv_nor_json_is_415_and_another_organisations_campaign_is_404(
    client, owner, make_person
):
    campaign_id = campaign(client, owner)
    response = client.post(
        f"/api/v1/campaigns/{campaign_id}/recipients",
        content=b"x",
        headers={**owner.headers, "Content-Type": "text/plain"},
    )
    assert response.status_code == 415 and error_of(response)["field"] == "Content-Type"
    stranger = make_person()
    assert upload_csv(client, stranger, campaign_id, "name,email\nA,a@b.test\n").status_code == 404


def test_a_suppressed_address_is_left_out_and_never_emailed(client, owner, db, smtp):
    campaign_id = campaign(client, owner)
    response = client.post(
        "/api/v1/suppressions", json={"email": "Gone@Example.com"}, headers=owner.headers
    )
    assert response.status_code == 204
    body = upload_csv(
        client, owner, campaign_id, "name,email\nGone,gone@example.com\nAnn,ann@example.com\n"
    ).json()
    assert (body["accepted"], body["suppressed"]) == (1, 1)
    # Suppressed after the upload: caught when its turn comes.
    client.post("/api/v1/suppressions", json={"email": "ann@example.com"}, headers=owner.headers)

    assert send_now() == 0

    assert db.scalar(select(Recipient.status)) == RecipientStatus.SUPPRESSED
    assert smtp.messages == []
    listed = client.get("/api/v1/suppressions", headers=owner.headers).json()
    assert listed["total"] == 2 and listed["suppressions"][0]["reason"] == "manual"


def test_requests_are_throttled_per_hour_capped_per_recipient_and_reminded_until_answered(
    client, owner, db, smtp
):
    # Given an organisation allowing 2 e-mails an hour and 1 reminder after 3 days
    db.add(FeedbackSettings(organisation_id=owner.organisation.id, hourly_limit=2))
    db.commit()
    first = campaign(client, owner)
    upload_csv(client, owner, first, "name,email\nA,a@example.com\nB,b@example.com\nC,c@x.test\n")

    # When the sender runs: only two go out this hour
    assert send_now() == 2
    assert send_now() == 0
    for row in db.scalars(select(EmailMessage)):
        assert deliver_email(row.id) == "sent"
    assert len(smtp.wait(2)) == 2
    assert smtp.messages[0]["Subject"].startswith("How was your visit")
    assert "/feedback/" in link(smtp.messages[0], "feedback")

    # An hour later the third goes, and three days later reminders go to those who did not answer
    later = datetime.now(UTC) + timedelta(hours=1, minutes=1)
    assert send_due_requests(later) == 1
    db.execute(
        Suppression.__table__.insert().values(
            organisation_id=owner.organisation.id,
            email_index=blind_index("b@example.com"),
            reason="unsubscribed",
            blocks_transactional=False,
        )
    )
    db.commit()
    in_four_days = datetime.now(UTC) + timedelta(days=4)
    assert send_due_requests(in_four_days) == 1  # a, not b (unsubscribed); c is not due yet
    templates = [m.template for m in db.scalars(select(EmailMessage).order_by(EmailMessage.id))]
    assert templates == ["feedback_request"] * 3 + ["feedback_reminder"]
    # No reminder after the last one
    assert send_due_requests(in_four_days + timedelta(days=30)) == 1  # c's single reminder
    assert send_due_requests(in_four_days + timedelta(days=60)) == 0

    # A second campaign within 30 days does not ask the same people again
    db.get(FeedbackSettings, owner.organisation.id).hourly_limit = 100
    db.commit()
    second = campaign(client, owner)
    upload_csv(client, owner, second, "name,email\nA,a@example.com\nNew,new@example.com\n")
    assert send_now() == 1
    statuses = dict(
        db.execute(
            select(Recipient.email_index, Recipient.status).where(Recipient.campaign_id == second)
        ).all()
    )
    assert statuses[blind_index("a@example.com")] == RecipientStatus.CAPPED
