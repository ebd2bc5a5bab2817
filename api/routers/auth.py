"""Sign-up (confirmed by e-mail), log-in, sessions (refresh, log-out), password change and
reset, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api import audit
from api.deps import CurrentScope, CurrentUser, PersonScope, SessionDep
from api.errors import ErrorResponse
from api.schemas.auth import (
    LoginIn,
    MembershipOut,
    MeOut,
    OrganisationOut,
    PasswordChangeIn,
    RefreshIn,
    ResetIn,
    ResetRequested,
    ResetRequestIn,
    SignupConfirmIn,
    SignupIn,
    SignupOut,
    SignupRequested,
    TokenOut,
    UserOut,
)
from models import Role
from services.accounts import accounts, sessions

router = APIRouter(tags=["auth"])

_THROTTLED = {429: {"model": ErrorResponse, "description": "Too many failed log-ins"}}
_BUSY = {429: {"model": ErrorResponse, "description": "Too many requests from this client"}}
_WEAK = {422: {"model": ErrorResponse, "description": "Invalid input or a too easily guessed "
               "password (`weak_password`); `field` names the culprit"}}  # fmt: skip


def _client(request: Request) -> str:
    # The peer, or the client a trusted proxy names: uvicorn honours X-Forwarded-For only from
    # PLAUDIT_TRUSTED_PROXIES (see api.proxies).
    return request.client.host if request.client else "unknown"


def _tokens(pair: sessions.TokenPair) -> dict[str, object]:
    return {
        "access_token": pair.access_token,
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
        "refresh_expires_in": pair.refresh_expires_in,
    }


def tokens_out(pair: sessions.TokenPair) -> TokenOut:
    return TokenOut(**_tokens(pair))


@router.post(
    "/auth/signup",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Ask for an organisation and its owner: a link to confirm them is e-mailed "
    "(the same answer whether the address has an account or not)",
    responses={**_WEAK, **_BUSY},
)
def signup(body: SignupIn, session: SessionDep, request: Request) -> SignupRequested:
    accounts.request_sign_up(
        session,
        email=body.email,
        password=body.password,
        name=body.name,
        organisation_name=body.organisation_name,
        client=_client(request),
    )
    return SignupRequested()


@router.post(
    "/auth/signup/confirm",
    status_code=status.HTTP_201_CREATED,
    summary="Create the organisation and its owner with the e-mailed token, and log in",
    responses={400: {"model": ErrorResponse, "description": "Invalid, expired or used token"}},
)
def confirm_signup(body: SignupConfirmIn, session: SessionDep, request: Request) -> SignupOut:
    user, organisation = accounts.confirm_sign_up(session, token=body.token)
    audit.record_person(
        session,
        request=request,
        user_id=user.id,
        organisation_id=organisation.id,
        action="organisation.created",
        target_type="organisation",
        target_id=organisation.id,
    )
    pair = sessions.start(session, user_id=user.id, organisation_id=organisation.id)
    return SignupOut(
        user=UserOut(id=user.id, email=user.email, name=user.name),
        organisation=OrganisationOut(id=organisation.id, name=organisation.name),
        **_tokens(pair),
    )


@router.post(
    "/auth/login",
    summary="Exchange an e-mail and password for an access token and a refresh token",
    responses={
        401: {"model": ErrorResponse, "description": "Wrong e-mail or password"},
        **_THROTTLED,
    },
)
def login(body: LoginIn, session: SessionDep, request: Request) -> TokenOut:
    user, membership = accounts.log_in(
        session,
        email=body.email,
        password=body.password,
        organisation_id=body.organisation_id,
        client=_client(request),
    )
    audit.record_person(
        session,
        request=request,
        user_id=user.id,
        organisation_id=membership.organisation_id,
        action="user.logged_in",
        target_type="user",
        target_id=user.id,
    )
    pair = sessions.start(session, user_id=user.id, organisation_id=membership.organisation_id)
    return tokens_out(pair)


@router.post(
    "/auth/refresh",
    summary="Exchange a refresh token for a new access token and refresh token",
    responses={401: {"model": ErrorResponse, "description": "Invalid, expired or reused"}},
)
def refresh(body: RefreshIn, session: SessionDep) -> TokenOut:
    return tokens_out(sessions.rotate(session, refresh_token=body.refresh_token))


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this session: its refresh token and access tokens stop working",
)
def logout(scope: PersonScope, session: SessionDep, request: Request) -> Response:
    sessions.end(session, user_id=scope.user_id, session_id=scope.session_id)
    audit.record(session, request=request, scope=scope, action="user.logged_out")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/logout-everywhere",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End every session of the caller, on every device",
)
def logout_everywhere(scope: PersonScope, session: SessionDep, request: Request) -> Response:
    ended = sessions.end_all(session, user_id=scope.user_id)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="user.logged_out_everywhere",
        details={"refresh_tokens_revoked": ended},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/password",
    summary="Change the caller's password; every other session ends",
    responses={
        422: {
            "model": ErrorResponse,
            "description": "The current password is wrong, or the new one too easily guessed",
        }
    },
)
def change_password(
    body: PasswordChangeIn,
    scope: PersonScope,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
) -> TokenOut:
    accounts.change_password(
        session,
        user=user,
        current_password=body.current_password,
        new_password=body.new_password,
    )
    sessions.end_all(session, user_id=user.id)
    audit.record(
        session,
        request=request,
        scope=scope,
        action="user.password_changed",
        target_type="user",
        target_id=user.id,
    )
    pair = sessions.start_for(session, scope=scope)
    return tokens_out(pair)


@router.post(
    "/auth/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    summary="E-mail a one-time reset link (the same answer whether the account exists or not, "
    "and whether the address has had its few links this hour)",
    responses=_BUSY,
)
def request_password_reset(
    body: ResetRequestIn, session: SessionDep, request: Request
) -> ResetRequested:
    accounts.request_password_reset(session, email=body.email, client=_client(request))
    return ResetRequested()


@router.post(
    "/auth/password-reset/confirm",
    summary="Set a new password with the e-mailed token; every session ends",
    responses={
        400: {"model": ErrorResponse, "description": "Invalid, expired or used token"},
        **_WEAK,
    },
)
def reset_password(body: ResetIn, session: SessionDep, request: Request) -> TokenOut:
    user = accounts.reset_password(session, token=body.token, new_password=body.new_password)
    sessions.end_all(session, user_id=user.id)
    organisation = accounts.memberships(session, user_id=user.id)[0][0]
    audit.record_person(
        session,
        request=request,
        user_id=user.id,
        organisation_id=organisation.id,
        action="user.password_reset",
        target_type="user",
        target_id=user.id,
    )
    pair = sessions.start(session, user_id=user.id, organisation_id=organisation.id)
    return tokens_out(pair)


@router.get("/me", summary="The caller, the organisation they act in, and their memberships")
def me(scope: CurrentScope, user: CurrentUser, session: SessionDep) -> MeOut:
    memberships = [
        MembershipOut(organisation=OrganisationOut(id=org.id, name=org.name), role=Role(role))
        for org, role in accounts.memberships(session, user_id=scope.user_id)
    ]
    current = next(
        m.organisation for m in memberships if m.organisation.id == scope.organisation_id
    )
    return MeOut(
        user=UserOut(id=user.id, email=user.email, name=user.name),
        organisation=current,
        role=scope.role,
        location_ids=None if scope.location_ids is None else list(scope.location_ids),
        memberships=memberships,
    )
