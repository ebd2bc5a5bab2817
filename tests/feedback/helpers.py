"""Building a campaign with a location, and reading links out of captured e-mails."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Connection, Location, Recipient
from tests.service_calls import send_due_requests

GOOGLE_REVIEW_URL = "https://search.google.com/local/writereview?placeid=TEST-PLACE"


def location(db: Session, organisation_id: int) -> Location:
    connection = Connection(organisation_id=organisation_id, provider="google", status="active")
    db.add(connection)
    db.flush()
    place = Location(
        organisation_id=organisation_id,
        connection_id=connection.id,
        provider="google",
        external_id="accounts/1/locations/1",
        name="Main street",
        new_review_uri=GOOGLE_REVIEW_URL,
    )
    db.add(place)
    db.commit()
    return place


def campaign(client, person, location_id: int | None = None) -> int:
    response = client.post(
        "/api/v1/campaigns",
        json={"name": "Spring visitors", "location_id": location_id},
        headers=person.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["campaign"]["id"]


def upload_csv(client, person, campaign_id: int, text: str):
    return client.post(
        f"/api/v1/campaigns/{campaign_id}/recipients",
        content=text.encode(),
        headers={**person.headers, "Content-Type": "text/csv"},
    )


def send_now() -> int:
    return send_due_requests(datetime.now(UTC))


def link(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    found = re.search(rf"https?://\S+/{path}/\S+", text)
    assert found, text
    return found.group(0)


def recipient(client, owner, db, email="ann@example.com") -> Recipient:
    place = location(db, owner.organisation.id)
    campaign_id = campaign(client, owner, place.id)
    upload_csv(client, owner, campaign_id, f"name,email\nAnn <b>,{email}\n")
    return db.scalars(select(Recipient)).one()


def form_token(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]
