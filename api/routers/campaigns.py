"""Feedback campaigns: create, read with counts per status, upload recipients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import audit, recipient_upload
from api.deps import CurrentScope, CursorParam, ManagerScope, SessionDep
from api.errors import ErrorResponse
from api.schemas.common import Id
from api.schemas.feedback import (
    MAX_RECIPIENTS,
    CampaignEnvelope,
    CampaignIn,
    CampaignList,
    CampaignOut,
    RecipientOut,
    RecipientPage,
    RecipientsIn,
    RejectedRow,
    UploadOut,
)
from models import Campaign, RecipientStatus
from services import pagination
from services.feedback import campaigns
from services.scope import Scope

router = APIRouter(prefix="/campaigns", tags=["feedback"])
_NOT_FOUND = {404: {"model": ErrorResponse, "description": "No such campaign here"}}


def _out(campaign: Campaign, counts: dict[str, int]) -> CampaignOut:
    return CampaignOut(
        id=campaign.id,
        name=campaign.name,
        location_id=campaign.location_id,
        created_at=campaign.created_at,
        counts=counts,
        total=sum(counts.values()),
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="A new campaign (manager)")
def create_campaign(
    body: CampaignIn, scope: ManagerScope, session: SessionDep, request: Request
) -> CampaignEnvelope:
    campaign = campaigns.create_campaign(
        session,
        scope=scope,
        name=body.name,
        location_id=body.location_id,
    )
    session.refresh(campaign)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="campaign.created",
        target_type="campaign",
        target_id=campaign.id,
    )
    counts = campaigns.counts(session, scope=scope, campaign_ids=[campaign.id])
    return CampaignEnvelope(campaign=_out(campaign, counts[campaign.id]))


@router.get("", summary="The newest campaigns with their counts")
def list_campaigns(scope: CurrentScope, session: SessionDep) -> CampaignList:
    found = campaigns.list_campaigns(session, scope=scope)
    counts = campaigns.counts(session, scope=scope, campaign_ids=[c.id for c in found])
    return CampaignList(campaigns=[_out(c, counts[c.id]) for c in found])


@router.get("/{campaign_id}", summary="A campaign with its counts per status", responses=_NOT_FOUND)
def get_campaign(campaign_id: Id, scope: CurrentScope, session: SessionDep) -> CampaignEnvelope:
    campaign = campaigns.get_campaign(session, scope=scope, campaign_id=campaign_id)
    counts = campaigns.counts(session, scope=scope, campaign_ids=[campaign.id])
    return CampaignEnvelope(campaign=_out(campaign, counts[campaign.id]))


@router.get(
    "/{campaign_id}/recipients",
    summary="A campaign's recipients with their status, by id",
    responses={**_NOT_FOUND, 400: {"model": ErrorResponse, "description": "The cursor is invalid"}},
)
def list_recipients(
    campaign_id: Id,
    scope: CurrentScope,
    session: SessionDep,
    status: RecipientStatus | None = None,
    cursor: CursorParam = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> RecipientPage:
    campaign = campaigns.get_campaign(session, scope=scope, campaign_id=campaign_id)
    kind = f"recipients:{campaign.id}"  # a cursor of one campaign's list is not another's
    rows, has_more = campaigns.list_recipients(
        session,
        scope=scope,
        campaign=campaign,
        status=status,
        after_id=pagination.after_id(kind, cursor),
        limit=limit,
    )
    return RecipientPage(
        recipients=[RecipientOut.model_validate(r) for r in rows],
        next_cursor=pagination.next_by_id(kind, rows, has_more=has_more),
    )


@router.post(
    "/{campaign_id}/recipients",
    summary=f"Add up to {MAX_RECIPIENTS:,} recipients as JSON or CSV (manager)",
    description=(
        '`application/json`: `{"recipients": [{"name", "email", "location_id"?, '
        '"external_ref"?}]}`. `text/csv`: a header row naming those columns. Invalid rows '
        "are reported by line with the reason and the valid ones accepted; duplicates are "
        "merged; suppressed addresses are left out."
    ),
    responses={
        **_NOT_FOUND,
        413: {"model": ErrorResponse, "description": f"More than {MAX_RECIPIENTS:,} rows"},
        415: {"model": ErrorResponse, "description": "Neither CSV nor JSON"},
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": RecipientsIn.model_json_schema()},
                "text/csv": {"schema": {"type": "string"}},
            },
            "required": True,
        }
    },
)
async def upload_recipients(
    campaign_id: Id, scope: ManagerScope, session: SessionDep, request: Request
) -> UploadOut:
    # The body is read raw because it may be CSV; the work is done off the event loop.
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    return await run_in_threadpool(
        _add_recipients, campaign_id, scope, session, request, body, content_type
    )


def _add_recipients(
    campaign_id: int,
    scope: Scope,
    session: Session,
    request: Request,
    body: bytes,
    content_type: str,
) -> UploadOut:
    campaign = campaigns.get_campaign(session, scope=scope, campaign_id=campaign_id)
    parsed = recipient_upload.parse(body, content_type)
    added = campaigns.add_recipients(
        session, scope=scope, campaign=campaign, rows=parsed.rows, rejected=parsed.rejected
    )
    result = UploadOut(
        accepted=added.accepted,
        merged=added.merged,
        suppressed=added.suppressed,
        rejected_count=added.rejected_count,
        rejected=[RejectedRow(line=r.line, field=r.field, reason=r.reason) for r in added.rejected],
    )
    audit.record(
        session,
        request=request,
        scope=scope,
        action="campaign.recipients_added",
        target_type="campaign",
        target_id=campaign.id,
        details=result.model_dump(exclude={"rejected"}),
    )
    return result
