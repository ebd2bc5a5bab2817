"""Feedback campaigns and their recipients; sending is the feedback worker's (workers.feedback).

A campaign belongs to its location: a member limited to some locations sees, creates and fills
only campaigns of theirs, and only the recipients of their locations (services/scope.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core.crypto import blind_index
from core.errors import Invalid
from models import Campaign, Recipient, RecipientStatus
from services.email.policy import suppressed_indexes
from services.locations import check_locations, known_locations
from services.scope import Scope, get_in_scope, in_scope

REPORTED_REJECTIONS = 1000
CHUNK = 5000  # rows per INSERT statement


def create_campaign(
    session: Session,
    *,
    scope: Scope,
    name: str,
    location_id: int | None,
) -> Campaign:
    if location_id is None and scope.location_ids is not None:
        raise Invalid(
            "invalid",
            "A member limited to some locations must name one of them",
            field="location_id",
        )
    if location_id is not None:
        check_locations(session, scope=scope, ids={location_id}, field="location_id")
    campaign = Campaign(
        organisation_id=scope.organisation_id,
        name=name,
        location_id=location_id,
        created_by=scope.user_id,
    )
    session.add(campaign)
    session.flush()
    return campaign


def get_campaign(session: Session, *, scope: Scope, campaign_id: int) -> Campaign:
    return get_in_scope(session, scope, Campaign, campaign_id, what="Campaign")


def list_campaigns(session: Session, *, scope: Scope) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign)
            .where(*in_scope(Campaign, scope))
            .order_by(Campaign.id.desc())
            .limit(200)
        )
    )


def counts(session: Session, *, scope: Scope, campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    by_campaign: dict[int, dict[str, int]] = {
        cid: dict.fromkeys(RecipientStatus, 0) for cid in campaign_ids
    }
    rows = session.execute(
        select(Recipient.campaign_id, Recipient.status, func.count())
        .where(Recipient.campaign_id.in_(campaign_ids), *in_scope(Recipient, scope))
        .group_by(Recipient.campaign_id, Recipient.status)
    )
    for campaign_id, status, count in rows:
        by_campaign[campaign_id][RecipientStatus(status)] = count
    return by_campaign


def list_recipients(
    session: Session,
    *,
    scope: Scope,
    campaign: Campaign,
    status: str | None,
    after_id: int | None,
    limit: int,
) -> tuple[list[Recipient], bool]:
    """Keyset pages by id, oldest first: a page costs its own size at any depth. The rows and
    whether more follow."""
    query = select(Recipient).where(
        Recipient.campaign_id == campaign.id, *in_scope(Recipient, scope)
    )
    if after_id is not None:
        query = query.where(Recipient.id > after_id)
    if status is not None:
        query = query.where(Recipient.status == status)
    rows = list(session.scalars(query.order_by(Recipient.id).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


@dataclass(frozen=True)
class NewRecipient:
    """A valid row of an upload; ``line`` is where it was (CSV line, or 1-based JSON row)."""

    line: int
    name: str
    email: str
    location_id: int | None = None
    external_ref: str | None = None


@dataclass(frozen=True)
class Rejected:
    """A row left out, and why (``field``: the column at fault, if one is)."""

    line: int
    field: str | None
    reason: str


@dataclass(frozen=True)
class Added:
    accepted: int  # new recipients, queued
    merged: int  # duplicates of a row above or of an earlier upload
    suppressed: int  # on the suppression list: not added
    rejected_count: int
    rejected: list[Rejected]  # the first REPORTED_REJECTIONS of them, by line


def add_recipients(
    session: Session,
    *,
    scope: Scope,
    campaign: Campaign,
    rows: Sequence[NewRecipient],
    rejected: Sequence[Rejected] = (),
) -> Added:
    """Queue ``rows`` in ``campaign``; ``rejected`` are rows the caller already refused, reported
    with those refused here."""
    refused = list(rejected)
    wanted = {row.location_id for row in rows if row.location_id is not None}
    known = known_locations(session, scope=scope, ids=wanted)
    unique: dict[str, dict[str, object]] = {}
    merged = 0
    for row in rows:
        if row.location_id is not None and row.location_id not in known:
            refused.append(Rejected(line=row.line, field="location_id", reason="no such location"))
            continue
        index = blind_index(row.email)
        if index in unique:
            merged += 1
            continue
        unique[index] = _queued(campaign, row, email_index=index)
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
    refused.sort(key=lambda r: r.line)
    return Added(
        accepted=accepted,
        merged=merged + len(values) - accepted,  # the rest were already in the campaign
        suppressed=len(suppressed),
        rejected_count=len(refused),
        rejected=refused[:REPORTED_REJECTIONS],
    )


def _queued(campaign: Campaign, row: NewRecipient, *, email_index: str) -> dict[str, object]:
    """The recipient's row as inserted: queued, due now."""
    return {
        "organisation_id": campaign.organisation_id,
        "campaign_id": campaign.id,
        "name": row.name,
        "email": row.email,
        "email_index": email_index,
        "location_id": row.location_id or campaign.location_id,
        "external_ref": row.external_ref,
        "status": RecipientStatus.QUEUED,
        "requests_sent": 0,
        "submissions": 0,
        "next_send_at": datetime.now(UTC),
    }
