"""Sign-up, log-in, tokens and /me."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.security import needs_rehash
from models import AuditEvent, Membership, Organisation, Role, User
from plaudit.crypto import blind_index
from plaudit.settings import get_settings
from tests.api.conftest import PASSWORD, Person, error_of

SIGNUP = {
    "email": "Ada@Example.com",
    "password": PASSWORD,
    "name": "Ada",
    "organisation_name": "Ada's Bakery",
}


def test_signup_creates_an_owner_and_returns_a_working_token(client: TestClient, db: Session):
    response = client.post("/api/v1/auth/signup", json=SIGNUP)

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


def test_signup_stores_the_address_encrypted(client: TestClient, db: Session):
    client.post("/api/v1/auth/signup", json=SIGNUP)

    raw = db.connection().exec_driver_sql("SELECT email FROM users").scalar_one()
    assert "Ada" not in raw and "example" not in raw


def test_signup_with_a_taken_address_is_a_conflict_on_email(client: TestClient):
    client.post("/api/v1/auth/signup", json=SIGNUP)

    again = client.post("/api/v1/auth/signup", json=SIGNUP | {"email": " ada@example.COM "})

    assert again.status_code == 409
    error = error_of(again)
    assert (error["code"], error["field"]) == ("conflict", "email")
    assert "ada" not in error["message"].lower()


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
