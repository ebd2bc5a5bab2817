"""The organisation and its members: settings, roles, location limits, removal."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.errors import ApiError, not_found
from api.services.locations import check_locations
from models import Membership, Organisation, Role, User
from models.organisation import LIMITABLE_ROLES


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


def check_location_limit(
    session: Session, *, organisation_id: int, role: Role, location_ids: Sequence[int] | None
) -> list[int] | None:
    """The limit as stored (sorted, once each), after checking the role may be limited and the
    ids are this organisation's locations."""
    if location_ids is None:
        return None
    _check_limitable(role, location_ids, field="location_ids")
    ids = sorted(set(location_ids))
    check_locations(session, organisation_id=organisation_id, ids=ids, field="location_ids")
    return ids


def _check_limitable(role: Role, location_ids: Sequence[int] | None, *, field: str) -> None:
    # Owners and admins manage connections, keys and members of every location: a limit on
    # them would promise a confinement that those organisation-wide routes cannot keep.
    if location_ids is not None and role not in LIMITABLE_ROLES:
        raise ApiError(
            422,
            "invalid",
            "Only a manager, responder or viewer can be limited to some locations",
            field=field,
        )


def update_member(
    session: Session,
    *,
    organisation_id: int,
    membership_id: int,
    actor_role: Role,
    role: Role | None = None,
    location_ids: Sequence[int] | None = None,
    change_locations: bool = False,
) -> tuple[Membership, User]:
    """Change the role (unless None) and, with ``change_locations``, the location limit
    (``location_ids`` None: every location)."""
    membership = _membership(session, organisation_id=organisation_id, membership_id=membership_id)
    _check_may_manage(actor_role, Role(membership.role), role)
    new_role = role or Role(membership.role)
    if new_role != Role.OWNER:
        _check_not_last_owner(session, membership)
    if change_locations:
        membership.location_ids = check_location_limit(
            session, organisation_id=organisation_id, role=new_role, location_ids=location_ids
        )
    else:
        _check_limitable(new_role, membership.location_ids, field="role")
    membership.role = new_role
    return membership, session.get_one(User, membership.user_id)


def remove(session: Session, *, organisation_id: int, membership_id: int, actor_role: Role) -> None:
    membership = _membership(session, organisation_id=organisation_id, membership_id=membership_id)
    _check_may_manage(actor_role, Role(membership.role))
    _check_not_last_owner(session, membership)
    session.delete(membership)
