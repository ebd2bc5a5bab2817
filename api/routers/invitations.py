"""Invitations: admins invite by e-mail; the invited person accepts with the e-mailed token."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api import audit
from api.deps import AdminScope, SessionDep
from api.errors import ErrorResponse
from api.routers.auth import tokens_out
from api.schemas.auth import TokenOut
from api.schemas.common import Id
from api.schemas.invitations import AcceptIn, InvitationIn, InvitationList, InvitationOut
from services.accounts import sessions
from services.team import invitations

router = APIRouter(prefix="/invitations", tags=["organisation"])


@router.get("", summary="Invitations not yet accepted (admin)")
def list_invitations(scope: AdminScope, session: SessionDep) -> InvitationList:
    rows = invitations.pending(session, scope=scope)
    return InvitationList(invitations=[InvitationOut.model_validate(row) for row in rows])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Invite an address with a role (admin; never above your own); e-mails a link",
    responses={
        409: {"model": ErrorResponse, "description": "Already a member"},
        422: {
            "model": ErrorResponse,
            "description": "Not a location here, or a limit on an owner or admin",
        },
    },
)
def invite(
    body: InvitationIn, scope: AdminScope, session: SessionDep, request: Request
) -> InvitationOut:
    invitation = invitations.invite(
        session,
        scope=scope,
        email=body.email,
        role=body.role,
        location_ids=body.location_ids,
    )
    audit.record(
        session,
        request=request,
        scope=scope,
        action="invitation.created",
        target_type="invitation",
        target_id=invitation.id,
        details={"role": body.role, "location_ids": invitation.location_ids},
    )
    return InvitationOut.model_validate(invitation)


@router.delete(
    "/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Withdraw an invitation (admin)",
    responses={404: {"model": ErrorResponse, "description": "No such invitation here"}},
)
def revoke(invitation_id: Id, scope: AdminScope, session: SessionDep, request: Request) -> Response:
    invitations.revoke(session, scope=scope, invitation_id=invitation_id)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="invitation.revoked",
        target_type="invitation",
        target_id=invitation_id,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/accept",
    summary="Join with the e-mailed token (creating the account if needed); logs in",
    responses={400: {"model": ErrorResponse, "description": "Invalid, expired or used token"}},
)
def accept(body: AcceptIn, session: SessionDep, request: Request) -> TokenOut:
    user, invitation = invitations.accept(
        session, token=body.token, name=body.name, password=body.password
    )
    audit.record_person(
        session,
        request=request,
        user_id=user.id,
        organisation_id=invitation.organisation_id,
        action="invitation.accepted",
        target_type="invitation",
        target_id=invitation.id,
    )
    pair = sessions.start(session, user_id=user.id, organisation_id=invitation.organisation_id)
    return tokens_out(pair)
