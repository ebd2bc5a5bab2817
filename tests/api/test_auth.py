"""Sign-up, log-in, tokens and /me."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.crypto import blind_index
from core.settings import get_settings
from models import (
    AuditEvent,
    EmailMessage,
    Membership,
    Organisation,
    Role,
    SignupRequest,
    User,
)
from services.accounts.passwords import needs_rehash
from tests.api.conftest import PASSWORD, Person, error_of

SIGNUP = {
    "email": "Ada@Example.com",
    "password": PASSWORD,
    "name": "Ada",
    "organisation_name": "Ada's Bakery",
}
ANSWER = {"status": "requested"}


def _emails_to(db: Session, address: str) -> list[dict]:
    db.expire_all()
    messages = db.scalars(
        select(EmailMessage)
        .where(EmailMessage.to_index == blind_index(address))
        .order_by(EmailMessage.id)
    )
    return [json.loads(m.context) for m in messages]


def test_signup_is_confirmed_by_the_emailed_link_and_returns_a_working_token(
    client: TestClient, db: Session
):
    # Given a sign-up request
    asked = client.post("/api/v1/auth/signup", json=SIGNUP)

    # Then nothing is created yet but a link is e-mailed to the address
    assert (asked.status_code, asked.json()) == (202, {"status": "requested"})
    assert db.scalar(select(func.count()).select_from(User)) == 0
    [email] = _emails_to(db, "ada@example.com")
    assert email["subject"] == "Confirm your plaudit account"
    token = email["action_url"].split("/confirm-signup#token=", 1)[1]

    # When the link is followed
    response = client.post("/api/v1/auth/signup/confirm", json={"token": token})

    # Then the owner and the organisation exist, and the answer logs them in
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "Ada@Example.com"
    assert body["organisation"]["name"] == "Ada's Bakery"
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().jwt_ttl_seconds
    user = db.scalar(select(User))
    assert user.email_index == blind_index("ada@example.com")
    assert user.password_hash.startswith("$argon2id$")
    membership = db.scalar(select(Membership))
    assert membership.role == Role.OWNER
    assert db.scalar(select(AuditEvent.action)) == "organisation.created"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["role"] == "owner"
    assert me.json()["organisation"] == body["organisation"]

    # And the link works once
    again = client.post("/api/v1/auth/signup/confirm", json={"token": token})
    assert (again.status_code, error_of(again)["field"]) == (400, "token")
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_a_signup_link_expires_and_its_organisation_goes_with_it(client: TestClient, db: Session):
    client.post("/api/v1/auth/signup", json=SIGNUP)
    token = _emails_to(db, "ada@example.com")[0]["action_url"].split("#token=", 1)[1]
    db.execute(update(SignupRequest).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.commit()

    expired = client.post("/api/v1/auth/signup/confirm", json={"token": token})
    # Someone else's sign-up clears the expired one away
    client.post("/api/v1/auth/signup", json=SIGNUP | {"email": "grace@example.com"})

    assert (expired.status_code, error_of(expired)["code"]) == (400, "invalid_token")
    db.expire_all()
    assert db.scalars(select(Organisation.name)).all() == ["Ada's Bakery"]  # Grace's, pending
    assert db.scalar(select(func.count()).select_from(SignupRequest)) == 1


def test_signup_stores_nothing_personal_in_clear(client: TestClient, db: Session):
    # A name long enough not to turn up by chance in a ciphertext's base64 (three letters do)
    signup = SIGNUP | {"name": "Augusta Ada King"}
    client.post("/api/v1/auth/signup", json=signup)

    raw = db.connection().exec_driver_sql("SELECT email, name FROM signup_requests").one()
    assert all(signup["name"] not in value and "example" not in value for value in raw)
    token = _emails_to(db, "ada@example.com")[0]["action_url"].split("#token=", 1)[1]
    client.post("/api/v1/auth/signup/confirm", json={"token": token})
    raw = db.connection().exec_driver_sql("SELECT email FROM users").scalar_one()
    assert "ada@" not in raw.lower() and "example" not in raw


def test_signup_with_a_taken_address_answers_alike_and_tells_the_owner(
    client: TestClient, db: Session, owner: Person
):
    # Given an address with an account, and one without
    taken = client.post("/api/v1/auth/signup", json=SIGNUP | {"email": owner.user.email.upper()})
    new = client.post("/api/v1/auth/signup", json=SIGNUP | {"email": "newcomer@example.com"})

    # Then the answers are the same
    assert (taken.status_code, taken.json()) == (new.status_code, new.json()) == (202, ANSWER)
    # And the owner is told someone tried, with no way in but their own password
    [notice] = _emails_to(db, owner.user.email)
    assert notice["subject"] == "Someone tried to sign up to plaudit with your address"
    assert "#token=" not in notice["action_url"]
    # And nothing was created for the taken address
    assert db.scalar(select(func.count()).select_from(User)) == 1
    assert db.scalar(select(func.count()).select_from(SignupRequest)) == 1


def test_two_links_for_one_address_make_one_account(client: TestClient, db: Session):
    client.post("/api/v1/auth/signup", json=SIGNUP)
    client.post("/api/v1/auth/signup", json=SIGNUP | {"organisation_name": "Second try"})
    first, second = (
        e["action_url"].split("#token=", 1)[1] for e in _emails_to(db, "ada@example.com")
    )

    assert client.post("/api/v1/auth/signup/confirm", json={"token": second}).status_code == 201
    late = client.post("/api/v1/auth/signup/confirm", json={"token": first})

    assert (late.status_code, error_of(late)["field"]) == (400, "token")
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_signup_validation_names_the_field(client: TestClient):
    cases = [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"email": "x" * 250 + "@example.com"}, "email"),
        ({"password": "short"}, "password"),
        ({"name": "   "}, "name"),
        ({"organisation_name": "Nul\x00Bakery"}, "organisation_name"),
        ({"surprise": True}, "surprise"),
    ]
    for change, field in cases:
        response = client.post("/api/v1/auth/signup", json=SIGNUP | change)

        assert response.status_code == 422, change
        error = error_of(response)
        assert (error["code"], error["field"]) == ("invalid", field), change


def test_signup_with_a_missing_field_or_no_json(client: TestClient):
    missing = client.post("/api/v1/auth/signup", json={"email": "a@example.com"})
    assert error_of(missing)["field"] == "password"

    garbage = client.post(
        "/api/v1/auth/signup", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert garbage.status_code == 422
    assert error_of(garbage)["code"] == "invalid"


def test_login_returns_a_token_for_the_first_organisation(client: TestClient, owner: Person):
    response = client.post(
        "/api/v1/auth/login", json={"email": owner.user.email.upper(), "password": PASSWORD}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
    }
    claims = jwt.decode(
        body["access_token"], get_settings().jwt_secret.get_secret_value(), algorithms=["HS256"]
    )
    assert (claims["sub"], claims["org"]) == (str(owner.user.id), owner.organisation.id)


def test_login_can_choose_among_several_organisations(
    client: TestClient, db: Session, owner: Person
):
    other = Organisation(name="Second shop")
    db.add(Membership(organisation=other, user_id=owner.user.id, role=Role.VIEWER))
    db.commit()

    response = client.post(
        "/api/v1/auth/login",
        json={"email": owner.user.email, "password": PASSWORD, "organisation_id": other.id},
    )
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )

    assert me.json()["organisation"]["id"] == other.id
    assert me.json()["role"] == "viewer"
    assert len(me.json()["memberships"]) == 2


def test_wrong_password_and_unknown_address_get_the_same_answer(client: TestClient, owner: Person):
    wrong_password = client.post(
        "/api/v1/auth/login", json={"email": owner.user.email, "password": "wrong password!"}
    )
    unknown = client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )

    assert wrong_password.status_code == unknown.status_code == 401
    assert error_of(wrong_password) == error_of(unknown)
    assert error_of(unknown)["code"] == "invalid_credentials"


def test_login_upgrades_an_outdated_hash(client: TestClient, db: Session, owner: Person):
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    owner.user.password_hash = weak
    db.commit()

    assert (
        client.post(
            "/api/v1/auth/login", json={"email": owner.user.email, "password": PASSWORD}
        ).status_code
        == 200
    )

    db.expire_all()
    upgraded = db.get(User, owner.user.id).password_hash
    assert upgraded != weak
    assert not needs_rehash(upgraded)


def test_requests_without_a_valid_token_are_401(client: TestClient, owner: Person):
    secret = get_settings().jwt_secret.get_secret_value()
    expired = jwt.encode(
        {
            "sub": str(owner.user.id),
            "org": owner.organisation.id,
            "exp": datetime.now(UTC) - timedelta(seconds=5),
        },
        secret,
        algorithm="HS256",
    )
    forged = jwt.encode(
        {
            "sub": str(owner.user.id),
            "org": owner.organisation.id,
            "exp": datetime.now(UTC) + timedelta(hours=1),
        },
        "not-our-secret-but-just-as-long-as-ours",
        algorithm="HS256",
    )
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
    ):
        response = client.get("/api/v1/me", headers=headers)

        assert response.status_code == 401, headers
        assert error_of(response)["code"] in ("unauthorized", "invalid_token")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_removed_member_loses_access_at_once(
    client: TestClient, db: Session, make_person: Callable[..., Person]
):
    person = make_person(Role.VIEWER)
    db.delete(db.scalar(select(Membership).where(Membership.user_id == person.user.id)))
    db.commit()

    response = client.get("/api/v1/me", headers=person.headers)

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"
