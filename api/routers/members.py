"""The organisation's settings, and its members' roles and location limits."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api import audit
from api.deps import AdminScope, CurrentScope, SessionDep
from api.errors import ErrorResponse
from api.schemas.common import Id
from api.schemas.members import (
    MemberList,
    MemberOut,
    MemberPatch,
    OrganisationDetail,
    OrganisationPatch,
)
from models import Membership, Role, User
from services.team import members

router = APIRouter(tags=["organisation"])

_NOT_FOUND = {
    404: {"model": ErrorResponse, "description": "No such member here"},
    409: {"model": ErrorResponse, "description": "That would leave no owner"},
}
_PATCH_RESPONSES: dict[int | str, dict[str, object]] = {
    **_NOT_FOUND,
    422: {
        "model": ErrorResponse,
        "description": "Not a location here, or a limit on an owner or admin",
    },
}


@router.get("/organisation", summary="The organisation the caller acts in")
def get_organisation(scope: CurrentScope, session: SessionDep) -> OrganisationDetail:
    organisation = members.get_organisation(session, scope=scope)
    return OrganisationDetail.model_validate(organisation)


@router.patch("/organisation", summary="Rename the organisation or set its reply approval (admin)")
def update_organisation(
    body: OrganisationPatch, scope: AdminScope, session: SessionDep, request: Request
) -> OrganisationDetail:
    organisation = members.get_organisation(session, scope=scope)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        setattr(organisation, name, value)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="organisation.updated",
        target_type="organisation",
        target_id=organisation.id,
        details={"fields": sorted(changes)},
    )
    return OrganisationDetail.model_validate(organisation)


@router.get("/members", summary="The organisation's members and their roles")
def list_members(scope: CurrentScope, session: SessionDep) -> MemberList:
    rows = members.list_members(session, scope=scope)
    return MemberList(members=[_out(m, u) for m, u in rows])


@router.patch(
    "/members/{member_id}",
    summary="Change a member's role (never above your own) or location limit (admin)",
    responses=_PATCH_RESPONSES,
)
def update_member(
    member_id: Id, body: MemberPatch, scope: AdminScope, session: SessionDep, request: Request
) -> MemberOut:
    change_locations = "location_ids" in body.model_fields_set
    membership, user = members.update_member(
        session,
        scope=scope,
        membership_id=member_id,
        role=body.role,
        location_ids=body.location_ids,
        change_locations=change_locations,
    )
    changed = []
    if body.role is not None:
        changed.append(("member.role_changed", {"role": body.role}))
    if change_locations:
        changed.append(("member.locations_changed", {"location_ids": membership.location_ids}))
    for action, details in changed:
        audit.record(
            session,
            request=request,
            scope=scope,
            action=action,
            target_type="membership",
            target_id=membership.id,
            details=details,
        )
    return _out(membership, user)


@router.delete(
    "/members/{member_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member from the organisation (admin)",
    responses=_NOT_FOUND,
)
def remove_member(
    member_id: Id, scope: AdminScope, session: SessionDep, request: Request
) -> Response:
    members.remove(session, scope=scope, membership_id=member_id)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="member.removed",
        target_type="membership",
        target_id=member_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(
        id=membership.id,
        user_id=user.id,
        name=user.name,
        email=user.email,
        role=Role(membership.role),
        location_ids=membership.location_ids,
    )
