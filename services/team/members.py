"""The organisation and its members: settings, roles, location limits, removal."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import Conflict, Forbidden, Invalid
from models import Membership, Organisation, Role, User
from models.organisation import LIMITABLE_ROLES
from services.locations import check_locations
from services.scope import Scope, get_in_scope, in_scope


def get_organisation(session: Session, *, scope: Scope) -> Organisation:
    return session.get_one(Organisation, scope.organisation_id)


def list_members(session: Session, *, scope: Scope) -> list[tuple[Membership, User]]:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(*in_scope(Membership, scope))
        .order_by(Membership.id)
    )
    return [(membership, user) for membership, user in rows.tuples()]


def _membership(session: Session, *, scope: Scope, membership_id: int) -> Membership:
    return get_in_scope(session, scope, Membership, membership_id, what="Member", for_update=True)


def _check_may_manage(actor_role: Role, target_role: Role, new_role: Role | None = None) -> None:
    # Nobody acts on someone above them, or hands out a role above their own.
    if target_role.rank > actor_role.rank or (new_role and new_role.rank > actor_role.rank):
        raise Forbidden("forbidden", "You cannot manage a role above your own")


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
        raise Conflict("last_owner", "An organisation must keep at least one owner")


def check_location_limit(
    session: Session, *, scope: Scope, role: Role, location_ids: Sequence[int] | None
) -> list[int] | None:
    """The limit as stored (sorted, once each), after checking the role may be limited and the
    ids are this organisation's locations."""
    if location_ids is None:
        return None
    _check_limitable(role, location_ids, field="location_ids")
    ids = sorted(set(location_ids))
    check_locations(session, scope=scope, ids=ids, field="location_ids")
    return ids


def _check_limitable(role: Role, location_ids: Sequence[int] | None, *, field: str) -> None:
    # Owners and admins manage connections, keys and members of every location: a limit on
    # them would promise a confinement that those organisation-wide routes cannot keep.
    if location_ids is not None and role not in LIMITABLE_ROLES:
        raise Invalid(
            "invalid",
            "Only a manager, responder or viewer can be limited to some locations",
            field=field,
        )


def update_member(
    session: Session,
    *,
    scope: Scope,
    membership_id: int,
    role: Role | None = None,
    location_ids: Sequence[int] | None = None,
    change_locations: bool = False,
) -> tuple[Membership, User]:
    """Change the role (unless None) and, with ``change_locations``, the location limit
    (``location_ids`` None: every location), as the caller of ``scope`` with their role."""
    membership = _membership(session, scope=scope, membership_id=membership_id)
    _check_may_manage(scope.role, Role(membership.role), role)
    new_role = role or Role(membership.role)
    if new_role != Role.OWNER:
        _check_not_last_owner(session, membership)
    if change_locations:
        membership.location_ids = check_location_limit(
            session, scope=scope, role=new_role, location_ids=location_ids
        )
    else:
        _check_limitable(new_role, membership.location_ids, field="role")
    membership.role = new_role
    return membership, session.get_one(User, membership.user_id)


def remove(session: Session, *, scope: Scope, membership_id: int) -> None:
    membership = _membership(session, scope=scope, membership_id=membership_id)
    _check_may_manage(scope.role, Role(membership.role))
    _check_not_last_owner(session, membership)
    session.delete(membership)
