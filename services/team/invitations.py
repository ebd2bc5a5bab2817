"""Invitations by e-mail: an admin invites an address with a role, optionally limited to some
locations; following the e-mailed link joins the organisation (creating the account if the
address has none). The link's token is stored only as a SHA-256 and works once, for seven days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.crypto import blind_index
from core.errors import BadRequest, Conflict, Forbidden, Invalid
from core.settings import get_settings
from models import Invitation, Membership, Organisation, Role, User
from services.accounts import passwords, tokens
from services.email import queue_email
from services.scope import Scope, get_in_scope, in_scope
from services.team.members import check_location_limit

INVITATION_TTL = timedelta(days=7)


def invite(
    session: Session,
    *,
    scope: Scope,
    email: str,
    role: Role,
    location_ids: Sequence[int] | None = None,
) -> Invitation:
    """An invitation from the caller of ``scope`` to ``role``, limited to ``location_ids``
    (None: every location)."""
    organisation_id = scope.organisation_id
    if role.rank > scope.role.rank:
        raise Forbidden("forbidden", "You cannot invite to a role above your own", field="role")
    limit = check_location_limit(session, scope=scope, role=role, location_ids=location_ids)
    email_index = blind_index(email)
    already = session.scalar(
        select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == organisation_id, User.email_index == email_index)
    )
    if already is not None:
        raise Conflict("conflict", "This address is already a member", field="email")
    token = tokens.new_secret()
    invitation = Invitation(
        organisation_id=organisation_id,
        email=email,
        email_index=email_index,
        role=role,
        location_ids=limit,
        token_hash=tokens.secret_hash(token),
        invited_by_user_id=scope.user_id,
        expires_at=datetime.now(UTC) + INVITATION_TTL,
    )
    session.add(invitation)
    session.flush()
    _send_invitation(session, invitation=invitation, token=token)
    return invitation


def _send_invitation(session: Session, *, invitation: Invitation, token: str) -> None:
    organisation_id = invitation.organisation_id
    name = session.scalar(select(Organisation.name).where(Organisation.id == organisation_id))
    queue_email(
        session,
        organisation_id=organisation_id,
        personal=True,  # the link is the key to the account: for the addressee only
        to=invitation.email,
        template="notice",
        context={
            "subject": f"You are invited to {name} on plaudit",
            "body": f"You have been invited to join {name} as {Role(invitation.role).value}. "
            "The link works once, for seven days.",
            "action_url": get_settings().public_url.rstrip("/")
            + "/accept-invitation#token="
            + token,
            "action_label": "Accept the invitation",
        },
    )


def pending(session: Session, *, scope: Scope) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(*in_scope(Invitation, scope), Invitation.accepted_at.is_(None))
            .order_by(Invitation.id)
        )
    )


def revoke(session: Session, *, scope: Scope, invitation_id: int) -> None:
    session.delete(get_in_scope(session, scope, Invitation, invitation_id, what="Invitation"))


def accept(
    session: Session, *, token: str, name: str | None, password: str | None
) -> tuple[User, Invitation]:
    invitation = session.scalar(
        select(Invitation)
        .where(Invitation.token_hash == tokens.secret_hash(token))
        .with_for_update()
    )
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.expires_at <= datetime.now(UTC)
    ):
        raise BadRequest(
            "invalid_token", "The invitation is invalid, expired or used", field="token"
        )
    user = session.scalar(select(User).where(User.email_index == invitation.email_index))
    if user is None:
        if not name or not password:
            raise Invalid("invalid", "A new account needs a name and a password", field="password")
        passwords.require_strong_password(
            password, field="password", user_inputs=(invitation.email, name)
        )
        user = User(
            email=invitation.email,
            email_index=invitation.email_index,
            name=name,
            password_hash=passwords.hash_password(password),
        )
        session.add(user)
        session.flush()
    already = session.scalar(
        select(Membership.id).where(
            Membership.organisation_id == invitation.organisation_id,
            Membership.user_id == user.id,
        )
    )
    if already is None:
        session.add(
            Membership(
                organisation_id=invitation.organisation_id,
                user_id=user.id,
                role=invitation.role,
                location_ids=invitation.location_ids,
            )
        )
    invitation.accepted_at = datetime.now(UTC)
    return user, invitation
