"""People and organisations: sign-up, log-in, passwords, memberships."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.crypto import blind_index
from core.errors import BadRequest, Invalid, Unauthorized
from core.settings import get_settings
from models import (
    AccountRequestKind,
    Membership,
    Organisation,
    PasswordReset,
    Role,
    SignupRequest,
    User,
)
from services.accounts import account_requests, login_throttle, passwords, tokens
from services.email import queue_email

SIGNUP_PATH = "/confirm-signup#token="


def request_sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    name: str,
    organisation_name: str,
    client: str,
) -> None:
    """Answered alike whether the address has an account or not, so that sign-up does not tell
    who has one: a new address is sent a link that creates the account when followed (proving
    the address is the person's), an existing one a notice that someone tried. At most a few
    such e-mails an address an hour, silently; a client past its limit gets a 429."""
    passwords.require_strong_password(
        password, field="password", user_inputs=(email, name, organisation_name)
    )
    # Hashed in either case, so that an existing address is not faster to answer.
    password_hash = passwords.hash_password(password)
    email_index = blind_index(email)
    user = session.scalar(select(User).where(User.email_index == email_index))
    notice_to = None if user is None else _first_organisation_id(session, user_id=user.id)
    if not account_requests.admit(
        session,
        kind=AccountRequestKind.SIGNUP,
        email_index=email_index,
        client=client,
        wants_email=user is None or notice_to is not None,
    ):
        return
    if user is not None and notice_to is not None:
        _tell_the_owner(session, user=user, organisation_id=notice_to)
        return
    _forget_expired_sign_ups(session)
    organisation = Organisation(name=organisation_name)
    session.add(organisation)
    session.flush()
    token = tokens.new_secret()
    session.add(
        SignupRequest(
            organisation_id=organisation.id,
            email=email,
            email_index=email_index,
            name=name,
            password_hash=password_hash,
            token_hash=tokens.secret_hash(token),
            expires_at=datetime.now(UTC)
            + timedelta(seconds=get_settings().signup_link_ttl_seconds),
        )
    )
    _send_sign_up_link(session, email=email, organisation_id=organisation.id, token=token)


def _tell_the_owner(session: Session, *, user: User, organisation_id: int) -> None:
    """The address has an account: its owner hears that someone tried, and nothing changes."""
    _notify_addressee(
        session,
        organisation_id=organisation_id,
        to=user.email,
        subject="Someone tried to sign up to plaudit with your address",
        body="Someone asked to create a plaudit account with this e-mail address, which "
        "already has one. If it was you, log in, or reset your password if you forgot it; if "
        "not, ignore this message: nothing was changed.",
        path="/login",
        action_label="Log in",
    )


def _send_sign_up_link(session: Session, *, email: str, organisation_id: int, token: str) -> None:
    _notify_addressee(
        session,
        organisation_id=organisation_id,
        to=email,
        subject="Confirm your plaudit account",
        body="Someone asked to create a plaudit account with this e-mail address. If it was "
        "you, follow the link to confirm the address and start; if not, ignore this message "
        "and no account will be created.",
        path=SIGNUP_PATH + token,
        action_label="Confirm my account",
    )


def _notify_addressee(
    session: Session,
    *,
    organisation_id: int,
    to: str,
    subject: str,
    body: str,
    path: str,
    action_label: str,
) -> None:
    """A notice with a link into plaudit (``path``), for the owner of the address alone: a link
    that creates or opens an account, or news of an attempt on it, is not for their
    organisation's admins (``personal``)."""
    queue_email(
        session,
        organisation_id=organisation_id,
        personal=True,
        to=to,
        template="notice",
        context={
            "subject": subject,
            "body": body,
            "action_url": get_settings().public_url.rstrip("/") + path,
            "action_label": action_label,
        },
    )


def _forget_expired_sign_ups(session: Session) -> None:
    """An unconfirmed sign-up's organisation goes with its expired request (and so do the
    e-mails sent in its name)."""
    expired = select(SignupRequest.organisation_id).where(SignupRequest.expires_at <= func.now())
    session.execute(
        delete(Organisation).where(
            Organisation.id.in_(expired),
            ~select(Membership.id).where(Membership.organisation_id == Organisation.id).exists(),
        )
    )


def confirm_sign_up(session: Session, *, token: str) -> tuple[User, Organisation]:
    """The e-mailed link was followed: the person owns the address, and their account and
    organisation start now."""
    request = session.scalar(
        select(SignupRequest)
        .where(SignupRequest.token_hash == tokens.secret_hash(token))
        .with_for_update()
    )
    if request is None or request.expires_at <= datetime.now(UTC):
        raise _invalid_sign_up_link()
    taken = session.scalar(select(User.id).where(User.email_index == request.email_index))
    if taken is not None:
        # Confirmed through another link, or invited meanwhile: the address has its account.
        raise _invalid_sign_up_link()
    user = User(
        email=request.email,
        email_index=request.email_index,
        name=request.name,
        password_hash=request.password_hash,
    )
    organisation = session.get_one(Organisation, request.organisation_id)
    session.add(Membership(organisation=organisation, user=user, role=Role.OWNER))
    session.delete(request)
    try:
        session.flush()
    except IntegrityError:
        # Lost a race to the same address; the request's session is rolled back as a whole.
        raise _invalid_sign_up_link() from None
    return user, organisation


def _invalid_sign_up_link() -> BadRequest:
    return BadRequest(
        "invalid_token", "The sign-up link is invalid, expired or used", field="token"
    )


def create_owner_account(
    session: Session, *, email: str, password: str, name: str, organisation_name: str
) -> tuple[User, Organisation]:
    """A new organisation and its owner at once, without e-mailing a link: only for callers
    that vouch for the address themselves (the demo's own owner), never for the public API."""
    passwords.require_strong_password(
        password, field="password", user_inputs=(email, name, organisation_name)
    )
    organisation = Organisation(name=organisation_name)
    user = User(
        email=email,
        email_index=blind_index(email),
        name=name,
        password_hash=passwords.hash_password(password),
    )
    session.add(Membership(organisation=organisation, user=user, role=Role.OWNER))
    session.flush()
    return user, organisation


def log_in(
    session: Session, *, email: str, password: str, organisation_id: int | None, client: str
) -> tuple[User, Membership]:
    """The person and the membership to act in; the same error for every wrong input, and a
    429 while this client is locked out of this account or the account or client is slowed
    down (see ``login_throttle``)."""
    email_index = blind_index(email)
    login_throttle.check(session, email_index=email_index, client=client)
    user = session.scalar(select(User).where(User.email_index == email_index))
    if user is None:
        passwords.burn_verification(password)
    if user is None or not passwords.verify_password(user.password_hash, password):
        login_throttle.record_failure(email_index=email_index, client=client)
        raise _bad_credentials()
    login_throttle.clear(session, email_index=email_index, client=client)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    query = select(Membership).where(Membership.user_id == user.id)
    if organisation_id is not None:
        query = query.where(Membership.organisation_id == organisation_id)
    membership = session.scalars(query.order_by(Membership.id).limit(1)).first()
    if membership is None:
        raise _bad_credentials()
    return user, membership


def _bad_credentials() -> Unauthorized:
    return Unauthorized("invalid_credentials", "The e-mail or password is wrong")


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
    if not passwords.verify_password(user.password_hash, current_password):
        raise Invalid(
            "invalid_credentials", "The current password is wrong", field="current_password"
        )
    passwords.require_strong_password(
        new_password, field="new_password", user_inputs=(user.email, user.name)
    )
    user.password_hash = passwords.hash_password(new_password)


RESET_TTL = timedelta(hours=1)


def request_password_reset(session: Session, *, email: str, client: str) -> None:
    """E-mail a one-time reset link if the address has an account and has not had its share of
    links this hour; the caller's answer is the same in every case, so that it does not reveal
    who has an account. Failed log-ins never stand in the way: the owner of an account under
    attack is the one who needs it."""
    email_index = blind_index(email)
    user = session.scalar(select(User).where(User.email_index == email_index))
    organisation_id = None if user is None else _first_organisation_id(session, user_id=user.id)
    if not account_requests.admit(
        session,
        kind=AccountRequestKind.PASSWORD_RESET,
        email_index=email_index,
        client=client,
        wants_email=organisation_id is not None,
    ):
        return
    assert user is not None and organisation_id is not None
    token = tokens.new_secret()
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=tokens.secret_hash(token),
            expires_at=datetime.now(UTC) + RESET_TTL,
        )
    )
    _notify_addressee(
        session,
        organisation_id=organisation_id,
        to=user.email,
        subject="Reset your plaudit password",
        body="Someone asked to reset the password of your plaudit account. If it was you, "
        "follow the link within an hour; if not, ignore this message.",
        path="/reset-password#token=" + token,
        action_label="Choose a new password",
    )


def _first_organisation_id(session: Session, *, user_id: int) -> int | None:
    """Whose name the person's own account e-mails are sent in."""
    return session.scalar(
        select(Membership.organisation_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.id)
        .limit(1)
    )


def reset_password(session: Session, *, token: str, new_password: str) -> User:
    reset = session.scalar(
        select(PasswordReset)
        .where(PasswordReset.token_hash == tokens.secret_hash(token))
        .with_for_update()
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= datetime.now(UTC):
        raise BadRequest(
            "invalid_token", "The reset link is invalid, expired or used", field="token"
        )
    user = session.get_one(User, reset.user_id)
    passwords.require_strong_password(
        new_password, field="new_password", user_inputs=(user.email, user.name)
    )
    reset.used_at = datetime.now(UTC)
    user.password_hash = passwords.hash_password(new_password)
    return user
