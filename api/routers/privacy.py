"""Privacy: redaction settings, redaction on request, retention, data-subject requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from fastapi import APIRouter, Request

from api import audit
from api.deps import AdminScope, OwnerScope, SessionDep
from api.errors import ErrorResponse
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
from core import crypto
from models.privacy import DataSubjectRequest
from services.privacy import settings as privacy
from services.privacy.keys import organisation_usage

router = APIRouter(prefix="/privacy", tags=["privacy"])
_NOT_FOUND = {404: {"model": ErrorResponse, "description": "Not in this organisation"}}


@router.get("/redaction", summary="The organisation's redaction settings")
def get_redaction(scope: AdminScope, session: SessionDep) -> RedactionSettings:
    return RedactionSettings.model_validate(privacy.redaction_settings(session, scope=scope))


@router.put("/redaction", summary="Switch detectors off or on, set the organisation's patterns")
def put_redaction(
    body: RedactionSettings, scope: AdminScope, session: SessionDep, request: Request
) -> RedactionSettings:
    privacy.save_redaction(
        session,
        scope=scope,
        disabled_detectors=body.disabled_detectors,
        patterns=[p.model_dump() for p in body.patterns],
    )
    audit.record(session, request=request, scope=scope, action="privacy.redaction_updated")
    return body


@router.post(
    "/items/{item_id}/redact",
    status_code=204,
    summary="Redact part or all of an item's text after the fact",
    responses=_NOT_FOUND,
)
def redact_item(
    item_id: Id, body: RedactSpan, scope: AdminScope, session: SessionDep, request: Request
) -> None:
    privacy.redact_item(
        session,
        scope=scope,
        item_id=item_id,
        start=body.start,
        end=body.end,
    )
    # Who and when, never what.
    audit.record(
        session, request=request, scope=scope, action="item.redacted",
        target_type="item", target_id=item_id,
    )  # fmt: skip


@router.get("/encryption", summary="Progress of a key rotation over the organisation's data")
def get_encryption(scope: OwnerScope, session: SessionDep) -> EncryptionStatus:
    usage = organisation_usage(session, organisation_id=scope.organisation_id)
    current = crypto.keyring().primary
    old = sum(n for kid, n in usage.items() if kid != current)
    return EncryptionStatus(
        current_key=current,
        values=sum(usage.values()),
        values_on_old_keys=old,
        rotation_done=old == 0,
    )


@router.get("/retention", summary="Days kept per data class")
def get_retention(scope: OwnerScope, session: SessionDep) -> RetentionSettings:
    return RetentionSettings(days=privacy.retention_settings(session, scope=scope))


@router.put("/retention", summary="Change how long each data class is kept")
def put_retention(
    body: RetentionSettings, scope: OwnerScope, session: SessionDep, request: Request
) -> RetentionSettings:
    saved = privacy.save_retention(session, scope=scope, days_by_class=body.days)
    audit.record(session, request=request, scope=scope, action="privacy.retention_updated")
    return RetentionSettings(days=saved)


@router.post(
    "/requests", status_code=202, summary="Record a data-subject export or erasure request"
)
def create_request(
    body: SubjectRequestIn, scope: AdminScope, session: SessionDep, request: Request
) -> SubjectRequestOut:
    created = privacy.record_request(
        session, scope=scope, kind=body.kind, email=body.email, reviewer_id=body.reviewer_id
    )
    audit.record(
        session, request=request, scope=scope, action=f"privacy.{body.kind}_requested",
        target_type="subject_request", target_id=created.id,
    )  # fmt: skip
    return _request_out(created)


@router.get("/requests", summary="Data-subject requests, soonest due first; overdue flagged")
def list_requests(scope: AdminScope, session: SessionDep) -> SubjectRequestList:
    rows = privacy.list_requests(session, scope=scope)
    return SubjectRequestList(requests=[_request_out(r) for r in rows])


@router.get(
    "/requests/{request_id}",
    summary="One request, with its export once done",
    responses=_NOT_FOUND,
)
def get_request(request_id: Id, scope: AdminScope, session: SessionDep) -> SubjectRequestOut:
    found = privacy.get_request(session, scope=scope, request_id=request_id)
    return _request_out(found, with_export=True)


def _request_out(request: DataSubjectRequest, *, with_export: bool = False) -> SubjectRequestOut:
    now = datetime.now(UTC)
    return SubjectRequestOut(
        id=request.id,
        kind=request.kind,
        status=request.status,
        received_at=request.received_at,
        due_at=request.due_at,
        completed_at=request.completed_at,
        overdue=request.status != "done" and request.due_at < now,
        counts=request.counts or {},
        export=json.loads(request.result) if with_export and request.result else None,
    )
