"""Invitations by e-mail: a one-time link that joins the organisation with the invited role."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import EmailMessage, Membership, Role
from tests.api.conftest import PASSWORD, Person, error_of


def _token(db: Session) -> str:
    message = db.scalars(select(EmailMessage).order_by(EmailMessage.id.desc())).first()
    return json.loads(message.context)["action_url"].split("#token=", 1)[1]


def test_a_new_person_joins_with_the_invited_role(client: TestClient, db: Session, owner: Person):
    invited = client.post(
        "/api/v1/invitations",
        json={"email": "grace@example.com", "role": "responder"},
        headers=owner.headers,
    )
    assert invited.status_code == 201
    token = _token(db)

    missing = client.post("/api/v1/invitations/accept", json={"token": token})
    accepted = client.post(
        "/api/v1/invitations/accept",
        json={"token": token, "name": "Grace", "password": "grace's passphrase"},
    )
    again = client.post(
        "/api/v1/invitations/accept",
        json={"token": token, "name": "Grace", "password": "grace's passphrase"},
    )

    assert (missing.status_code, error_of(missing)["field"]) == (422, "password")
    assert accepted.status_code == 200
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {accepted.json()['access_token']}"}
    ).json()
    assert (me["role"], me["organisation"]["id"]) == ("responder", owner.organisation.id)
    assert (again.status_code, error_of(again)["code"]) == (400, "invalid_token")
    assert client.get("/api/v1/invitations", headers=owner.headers).json()["invitations"] == []


def test_an_existing_account_gains_a_membership(
    client: TestClient, db: Session, owner: Person, make_person: Callable[..., Person]
):
    elsewhere = make_person()
    client.post(
        "/api/v1/invitations",
        json={"email": elsewhere.user.email, "role": "viewer"},
        headers=owner.headers,
    )

    accepted = client.post("/api/v1/invitations/accept", json={"token": _token(db)})

    assert accepted.status_code == 200
    roles = db.scalars(select(Membership.role).where(Membership.user_id == elsewhere.user.id)).all()
    assert sorted(roles) == ["owner", "viewer"]
    login = client.post(
        "/api/v1/auth/login",
        json={
            "email": elsewhere.user.email,
            "password": PASSWORD,
            "organisation_id": owner.organisation.id,
        },
    )
    assert login.status_code == 200


def test_nobody_invites_above_their_own_role_or_a_member_twice(
    client: TestClient, owner: Person, make_person: Callable[..., Person]
):
    admin = make_person(Role.ADMIN, organisation=owner.organisation)

    above = client.post(
        "/api/v1/invitations",
        json={"email": "x@example.com", "role": "owner"},
        headers=admin.headers,
    )
    twice = client.post(
        "/api/v1/invitations",
        json={"email": admin.user.email, "role": "viewer"},
        headers=owner.headers,
    )

    assert (above.status_code, error_of(above)["field"]) == (403, "role")
    assert (twice.status_code, error_of(twice)["field"]) == (409, "email")
