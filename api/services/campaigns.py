"""Feedback campaigns and their recipients; sending is the feedback worker's (workers.feedback).

A campaign belongs to its location: a member limited to some locations sees, creates and fills
only campaigns of theirs, and only the recipients of their locations (api/scope.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.errors import ApiError, not_found
from api.schemas.feedback import RejectedRow, UploadOut
from api.scope import LocationIds, in_locations
from api.services.locations import check_locations, known_locations
from api.services.recipient_upload import Parsed
from models import Campaign, Recipient, RecipientStatus
from plaudit.crypto import blind_index
from services.email.policy import suppressed_indexes

REPORTED_REJECTIONS = 1000
CHUNK = 5000  # rows per INSERT statement


def create_campaign(
    session: Session,
    *,
    organisation_id: int,
    user_id: int,
    name: str,
    location_id: int | None,
    location_ids: LocationIds = None,
) -> Campaign:
    if location_id is None and location_ids is not None:
        raise ApiError(
            422,
            "invalid",
            "A member limited to some locations must name one of them",
            field="location_id",
        )
    if location_id is not None:
        check_locations(
            session,
            organisation_id=organisation_id,
            ids={location_id},
            field="location_id",
            location_ids=location_ids,
        )
    campaign = Campaign(
        organisation_id=organisation_id, name=name, location_id=location_id, created_by=user_id
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(
    session: Session, *, organisation_id: int, campaign_id: int, location_ids: LocationIds = None
) -> Campaign:
    campaign = session.scalar(
        select(Campaign).where(
            Campaign.id == campaign_id,
            Campaign.organisation_id == organisation_id,
            *in_locations(Campaign.location_id, location_ids),
        )
    )
    if campaign is None:
        raise not_found("Campaign")
    return campaign


def list_campaigns(
    session: Session, *, organisation_id: int, location_ids: LocationIds = None
) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign)
            .where(
                Campaign.organisation_id == organisation_id,
                *in_locations(Campaign.location_id, location_ids),
            )
            .order_by(Campaign.id.desc())
            .limit(200)
        )
    )


def counts(
    session: Session, *, campaign_ids: list[int], location_ids: LocationIds = None
) -> dict[int, dict[str, int]]:
    by_campaign: dict[int, dict[str, int]] = {
        cid: dict.fromkeys(RecipientStatus, 0) for cid in campaign_ids
    }
    rows = session.execute(
        select(Recipient.campaign_id, Recipient.status, func.count())
        .where(
            Recipient.campaign_id.in_(campaign_ids),
            *in_locations(Recipient.location_id, location_ids),
        )
        .group_by(Recipient.campaign_id, Recipient.status)
    )
    for campaign_id, status, count in rows:
        by_campaign[campaign_id][RecipientStatus(status)] = count
    return by_campaign


def list_recipients(
    session: Session,
    *,
    campaign: Campaign,
    status: str | None,
    after: int,
    limit: int,
    location_ids: LocationIds = None,
) -> list[Recipient]:
    """Keyset pages by id: a page costs its own size at any depth."""
    query = select(Recipient).where(
        Recipient.campaign_id == campaign.id,
        Recipient.id > after,
        *in_locations(Recipient.location_id, location_ids),
    )
    if status is not None:
        query = query.where(Recipient.status == status)
    return list(session.scalars(query.order_by(Recipient.id).limit(limit)))


def add_recipients(
    session: Session, *, campaign: Campaign, parsed: Parsed, location_ids: LocationIds = None
) -> UploadOut:
    rejected = list(parsed.rejected)
    wanted = {row.location_id for _, row in parsed.rows if row.location_id is not None}
    known = known_locations(
        session, organisation_id=campaign.organisation_id, ids=wanted, location_ids=location_ids
    )
    unique: dict[str, dict[str, object]] = {}
    merged = 0
    for line, row in parsed.rows:
        if row.location_id is not None and row.location_id not in known:
            rejected.append(RejectedRow(line=line, field="location_id", reason="no such location"))
            continue
        index = blind_index(row.email)
        if index in unique:
            merged += 1
            continue
        unique[index] = {
            "organisation_id": campaign.organisation_id,
            "campaign_id": campaign.id,
            "name": row.name,
            "email": row.email,
            "email_index": index,
            "location_id": row.location_id or campaign.location_id,
            "external_ref": row.external_ref,
            "status": RecipientStatus.QUEUED,
            "requests_sent": 0,
            "submissions": 0,
            "next_send_at": datetime.now(UTC),
        }
    suppressed = suppressed_indexes(
        session, organisation_id=campaign.organisation_id, indexes=list(unique)
    )
    values = [v for index, v in unique.items() if index not in suppressed]
    accepted = 0
    for start in range(0, len(values), CHUNK):
        inserted = session.scalars(
            insert(Recipient)
            .values(values[start : start + CHUNK])
            .on_conflict_do_nothing(index_elements=["campaign_id", "email_index"])
            .returning(Recipient.id)
        )
        accepted += len(list(inserted))
    rejected.sort(key=lambda r: r.line)
    return UploadOut(
        accepted=accepted,
        merged=merged + len(values) - accepted,  # the rest were already in the campaign
        suppressed=len(suppressed),
        rejected_count=len(rejected),
        rejected=rejected[:REPORTED_REJECTIONS],
    )
