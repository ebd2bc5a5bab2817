"""Privacy: redaction settings, redaction on request, retention, data-subject requests."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.audit import record_by
from api.deps import AdminMember, OwnerMember, SessionDep
from api.errors import ApiError, ErrorResponse
from api.schemas.common import Id
from api.schemas.privacy import (
    EncryptionStatus,
    RedactionSettings,
    RedactSpan,
    RetentionSettings,
    SubjectRequestIn,
    SubjectRequestList,
    SubjectRequestOut,
)
from api.services import privacy
from plaudit import crypto
from services.privacy.keys import organisation_usage
from services.privacy.subject_requests import receive

router = APIRouter(prefix="/privacy", tags=["privacy"])
_NOT_FOUND = {404: {"model": ErrorResponse, "description": "Not in this organisation"}}


@router.get("/redaction", summary="The organisation's redaction settings")
def get_redaction(member: AdminMember, session: SessionDep) -> RedactionSettings:
    return privacy.redaction_settings(session, organisation_id=member.organisation_id)


@router.put("/redaction", summary="Switch detectors off or on, set the organisation's patterns")
def put_redaction(
    body: RedactionSettings, member: AdminMember, session: SessionDep, request: Request
) -> RedactionSettings:
    saved = privacy.save_redaction(session, organisation_id=member.organisation_id, settings=body)
    record_by(session, request=request, member=member, action="privacy.redaction_updated")
    return saved


@router.post(
    "/items/{item_id}/redact",
    status_code=204,
    summary="Redact part or all of an item's text after the fact",
    responses=_NOT_FOUND,
)
def redact_item(
    item_id: Id, body: RedactSpan, member: AdminMember, session: SessionDep, request: Request
) -> None:
    privacy.redact_item(
        session,
        organisation_id=member.organisation_id,
        item_id=item_id,
        start=body.start,
        end=body.end,
    )
    # Who and when, never what.
    record_by(
        session, request=request, member=member, action="item.redacted",
        target_type="item", target_id=item_id,
    )  # fmt: skip


@router.get("/encryption", summary="Progress of a key rotation over the organisation's data")
def get_encryption(member: OwnerMember, session: SessionDep) -> EncryptionStatus:
    usage = organisation_usage(session, organisation_id=member.organisation_id)
    current = crypto.keyring().primary
    old = sum(n for kid, n in usage.items() if kid != current)
    return EncryptionStatus(
        current_key=current,
        values=sum(usage.values()),
        values_on_old_keys=old,
        rotation_done=old == 0,
    )


@router.get("/retention", summary="Days kept per data class")
def get_retention(member: OwnerMember, session: SessionDep) -> RetentionSettings:
    return privacy.retention_settings(session, organisation_id=member.organisation_id)


@router.put("/retention", summary="Change how long each data class is kept")
def put_retention(
    body: RetentionSettings, member: OwnerMember, session: SessionDep, request: Request
) -> RetentionSettings:
    saved = privacy.save_retention(session, organisation_id=member.organisation_id, settings=body)
    record_by(session, request=request, member=member, action="privacy.retention_updated")
    return saved


@router.post(
    "/requests", status_code=202, summary="Record a data-subject export or erasure request"
)
def create_request(
    body: SubjectRequestIn, member: AdminMember, session: SessionDep, request: Request
) -> SubjectRequestOut:
    if (body.email is None) == (body.reviewer_id is None):
        raise ApiError(422, "invalid", "give exactly one of email or reviewer_id", field="email")
    created = receive(
        session,
        organisation_id=member.organisation_id,
        kind=body.kind,
        email=body.email,
        reviewer_id=body.reviewer_id,
    )
    record_by(
        session, request=request, member=member, action=f"privacy.{body.kind}_requested",
        target_type="subject_request", target_id=created.id,
    )  # fmt: skip
    return privacy.request_out(created)


@router.get("/requests", summary="Data-subject requests, soonest due first; overdue flagged")
def list_requests(member: AdminMember, session: SessionDep) -> SubjectRequestList:
    rows = privacy.list_requests(session, organisation_id=member.organisation_id)
    return SubjectRequestList(requests=[privacy.request_out(r) for r in rows])


@router.get(
    "/requests/{request_id}",
    summary="One request, with its export once done",
    responses=_NOT_FOUND,
)
def get_request(request_id: Id, member: AdminMember, session: SessionDep) -> SubjectRequestOut:
    found = privacy.get_request(
        session, organisation_id=member.organisation_id, request_id=request_id
    )
    return privacy.request_out(found, with_export=True)
