"""People and organisations: sign-up, log-in, memberships."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import security
from api.errors import ApiError
from api.services import login_throttle
from models import Membership, Organisation, PasswordReset, Role, User
from plaudit.crypto import blind_index
from plaudit.email import queue_email
from plaudit.settings import get_settings


def sign_up(
    session: Session, *, email: str, password: str, name: str, organisation_name: str
) -> tuple[User, Organisation]:
    """A new organisation with the new person as its owner."""
    email_index = blind_index(email)
    if session.scalar(select(User.id).where(User.email_index == email_index)) is not None:
        raise _email_taken()
    organisation = Organisation(name=organisation_name)
    user = User(
        email=email,
        email_index=email_index,
        name=name,
        password_hash=security.hash_password(password),
    )
    session.add(Membership(organisation=organisation, user=user, role=Role.OWNER))
    try:
        session.flush()
    except IntegrityError:
        # Lost a race to the same address; the request's session is rolled back as a whole.
        raise _email_taken() from None
    return user, organisation


def _email_taken() -> ApiError:
    return ApiError(409, "conflict", "An account with this e-mail address exists", field="email")


def log_in(
    session: Session, *, email: str, password: str, organisation_id: int | None, ip: str
) -> tuple[User, Membership]:
    """The person and the membership to act in; the same error for every wrong input, and a
    429 once the account or the address has failed too often."""
    email_index = blind_index(email)
    login_throttle.check(session, email_index=email_index, ip=ip)
    user = session.scalar(select(User).where(User.email_index == email_index))
    if user is None:
        security.burn_verification(password)
    if user is None or not security.verify_password(user.password_hash, password):
        login_throttle.record_failure(email_index=email_index, ip=ip)
        raise _bad_credentials()
    login_throttle.clear(session, email_index=email_index)
    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
    query = select(Membership).where(Membership.user_id == user.id)
    if organisation_id is not None:
        query = query.where(Membership.organisation_id == organisation_id)
    membership = session.scalars(query.order_by(Membership.id).limit(1)).first()
    if membership is None:
        raise _bad_credentials()
    return user, membership


def _bad_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "The e-mail or password is wrong")


def memberships(session: Session, *, user_id: int) -> list[tuple[Organisation, str]]:
    rows = session.execute(
        select(Organisation, Membership.role)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.id)
    )
    return [(organisation, role) for organisation, role in rows.tuples()]


def change_password(
    session: Session, *, user: User, current_password: str, new_password: str
) -> None:
    if not security.verify_password(user.password_hash, current_password):
        raise ApiError(
            422, "invalid_credentials", "The current password is wrong", field="current_password"
        )
    user.password_hash = security.hash_password(new_password)


RESET_TTL = timedelta(hours=1)


def request_password_reset(session: Session, *, email: str) -> None:
    """E-mail a one-time reset link if the address has an account; the caller's answer is the
    same either way, so that it does not reveal who has an account."""
    user = session.scalar(select(User).where(User.email_index == blind_index(email)))
    if user is None:
        return
    organisation_id = session.scalar(
        select(Membership.organisation_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.id)
        .limit(1)
    )
    if organisation_id is None:
        return
    token = security.new_secret()
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=security.secret_hash(token),
            expires_at=datetime.now(UTC) + RESET_TTL,
        )
    )
    link = get_settings().public_url.rstrip("/") + "/reset-password#token=" + token
    queue_email(
        session,
        organisation_id=organisation_id,
        personal=True,  # the link is the key to the account: for the addressee only
        to=user.email,
        template="notice",
        context={
            "subject": "Reset your plaudit password",
            "body": "Someone asked to reset the password of your plaudit account. If it was you, "
            "follow the link within an hour; if not, ignore this message.",
            "action_url": link,
            "action_label": "Choose a new password",
        },
    )


def reset_password(session: Session, *, token: str, new_password: str) -> User:
    reset = session.scalar(
        select(PasswordReset)
        .where(PasswordReset.token_hash == security.secret_hash(token))
        .with_for_update()
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= datetime.now(UTC):
        raise ApiError(
            400, "invalid_token", "The reset link is invalid, expired or used", field="token"
        )
    reset.used_at = datetime.now(UTC)
    user = session.get_one(User, reset.user_id)
    user.password_hash = security.hash_password(new_password)
    return user
