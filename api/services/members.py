"""The organisation and its members: settings, roles, removal."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import ApiError, not_found
from models import Membership, Organisation, Role, User


def get_organisation(session: Session, *, organisation_id: int) -> Organisation:
    return session.get_one(Organisation, organisation_id)


def list_members(session: Session, *, organisation_id: int) -> list[tuple[Membership, User]]:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == organisation_id)
        .order_by(Membership.id)
    )
    return [(membership, user) for membership, user in rows.tuples()]


def _membership(session: Session, *, organisation_id: int, membership_id: int) -> Membership:
    membership = session.scalar(
        select(Membership)
        .where(Membership.id == membership_id, Membership.organisation_id == organisation_id)
        .with_for_update()
    )
    if membership is None:
        raise not_found("Member")
    return membership


def _check_may_manage(actor_role: Role, target_role: Role, new_role: Role | None = None) -> None:
    # Nobody acts on someone above them, or hands out a role above their own.
    if target_role.rank > actor_role.rank or (new_role and new_role.rank > actor_role.rank):
        raise ApiError(403, "forbidden", "You cannot manage a role above your own")


def _check_not_last_owner(session: Session, membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = session.scalar(
        select(func.count()).where(
            Membership.organisation_id == membership.organisation_id,
            Membership.role == Role.OWNER,
        )
    )
    if owners <= 1:
        raise ApiError(409, "last_owner", "An organisation must keep at least one owner")


def change_role(
    session: Session, *, organisation_id: int, membership_id: int, actor_role: Role, role: Role
) -> tuple[Membership, User]:
    membership = _membership(session, organisation_id=organisation_id, membership_id=membership_id)
    _check_may_manage(actor_role, Role(membership.role), role)
    if role != Role.OWNER:
        _check_not_last_owner(session, membership)
    membership.role = role
    return membership, session.get_one(User, membership.user_id)


def remove(session: Session, *, organisation_id: int, membership_id: int, actor_role: Role) -> None:
    membership = _membership(session, organisation_id=organisation_id, membership_id=membership_id)
    _check_may_manage(actor_role, Role(membership.role))
    _check_not_last_owner(session, membership)
    session.delete(membership)
