"""New passwords follow NIST SP 800-63B: ten characters or more, and not common, breached,
repeated, sequential or made of the person's own details (zxcvbn), wherever one is set."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import EmailMessage, SignupRequest, User
from tests.api.conftest import PASSWORD, Person, error_of

WEAK = ["aaaaaaaaaa", "1234567890", " " * 10, "qwertyuiop", "password123", "iloveyou12"]
SIGNUP = {"email": "ada@example.com", "name": "Ada", "organisation_name": "Ada's Bakery"}


def _refused(response, field: str, password: str) -> None:
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["field"]) == ("weak_password", field)
    assert error["message"].startswith("This password is too easy to guess")
    if password.strip():
        assert password not in error["message"]


@pytest.mark.parametrize("password", WEAK)
def test_signup_refuses_a_common_or_patterned_password(
    client: TestClient, db: Session, password: str
):
    response = client.post("/api/v1/auth/signup", json=SIGNUP | {"password": password})

    _refused(response, "password", password)
    assert db.scalars(select(SignupRequest)).all() == []
    assert db.scalars(select(EmailMessage)).all() == []


def test_signup_refuses_a_password_made_of_the_persons_own_details(client: TestClient):
    response = client.post(
        "/api/v1/auth/signup",
        json=SIGNUP | {"email": "kowalczyk@example.com", "password": "kowalczyk@example.com"},
    )

    _refused(response, "password", "kowalczyk@example.com")


def test_a_password_change_refuses_a_weak_one(client: TestClient, owner: Person):
    response = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "1234567890"},
        headers=owner.headers,
    )

    _refused(response, "new_password", "1234567890")


def test_a_password_reset_refuses_a_weak_one_and_keeps_the_link(
    client: TestClient, db: Session, owner: Person
):
    client.post("/api/v1/auth/password-reset", json={"email": owner.user.email})
    message = db.scalars(select(EmailMessage)).one()
    token = json.loads(message.context)["action_url"].split("#token=", 1)[1]

    weak = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "aaaaaaaaaa"},
    )
    strong = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "a brand new passphrase"},
    )

    _refused(weak, "new_password", "aaaaaaaaaa")
    assert strong.status_code == 200


def test_accepting_an_invitation_refuses_a_weak_password(
    client: TestClient, db: Session, owner: Person
):
    client.post(
        "/api/v1/invitations",
        json={"email": "grace@example.com", "role": "viewer"},
        headers=owner.headers,
    )
    message = db.scalars(select(EmailMessage)).one()
    token = json.loads(message.context)["action_url"].split("#token=", 1)[1]

    response = client.post(
        "/api/v1/invitations/accept",
        json={"token": token, "name": "Grace", "password": " " * 12},
    )

    _refused(response, "password", " " * 12)
    assert db.scalar(select(User.id).where(User.name == "Grace")) is None
