"""Log-in throttling, rotating refresh tokens, log-out, log-out everywhere, password change."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from models import AuditEvent, EmailMessage, LoginFailure, RefreshToken
from tests.api.conftest import PASSWORD, Person, error_of

LOGIN = "/api/v1/auth/login"


def _login(client: TestClient, person: Person, password: str = PASSWORD):
    return client.post(LOGIN, json={"email": person.user.email, "password": password})


def _bearer(body: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_an_account_is_throttled_after_repeated_failures_even_with_the_right_password(
    client: TestClient, db: Session, owner: Person, configure: Callable[..., None]
):
    configure(login_max_failures_per_account=3, login_max_failures_per_ip=100)
    # Given three wrong passwords
    for _ in range(3):
        assert _login(client, owner, "wrong password!").status_code == 401

    # When the right one comes next
    refused = _login(client, owner)

    # Then it is refused for now, with a hint of when to come back
    assert refused.status_code == 429
    assert error_of(refused)["code"] == "too_many_attempts"
    assert 1 <= int(refused.headers["Retry-After"]) <= 900
    assert db.scalar(select(func.count()).select_from(LoginFailure)) == 3
    assert owner.user.email not in refused.text


def test_a_success_clears_the_accounts_failures(
    client: TestClient, owner: Person, configure: Callable[..., None]
):
    configure(login_max_failures_per_account=3)
    _login(client, owner, "wrong password!")
    _login(client, owner, "wrong password!")
    assert _login(client, owner).status_code == 200
    _login(client, owner, "wrong password!")
    _login(client, owner, "wrong password!")

    assert _login(client, owner).status_code == 200


def test_one_address_is_throttled_across_accounts(
    client: TestClient, make_person: Callable[..., Person], configure: Callable[..., None]
):
    people = [make_person() for _ in range(3)]
    configure(login_max_failures_per_account=100, login_max_failures_per_ip=3)
    for person in people:
        assert _login(client, person, "wrong password!").status_code == 401

    refused = _login(client, make_person())

    assert refused.status_code == 429


def test_failures_outside_the_window_do_not_count(
    client: TestClient, db: Session, owner: Person, configure: Callable[..., None]
):
    configure(login_max_failures_per_account=2)
    _login(client, owner, "wrong password!")
    _login(client, owner, "wrong password!")
    db.execute(update(LoginFailure).values(created_at=text("now() - interval '1 hour'")))
    db.commit()

    assert _login(client, owner).status_code == 200


def test_a_refresh_token_rotates_and_works_once(client: TestClient, owner: Person):
    first = _login(client, owner).json()

    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=_bearer(pair)).status_code == 200

    # Presenting the spent token again means it was copied: the whole session ends.
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert error_of(replay) == {
        "code": "invalid_refresh_token",
        "message": "The refresh token is invalid, expired or already used; log in again",
        "field": "refresh_token",
    }
    newest = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert newest.status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(pair)).status_code == 401


def test_logout_ends_this_session_only(client: TestClient, owner: Person):
    laptop, phone = _login(client, owner).json(), _login(client, owner).json()

    assert client.post("/api/v1/auth/logout", headers=_bearer(laptop)).status_code == 204

    assert client.get("/api/v1/me", headers=_bearer(laptop)).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    assert refreshed.status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(phone)).status_code == 200


def test_logout_everywhere_ends_every_session(client: TestClient, db: Session, owner: Person):
    laptop, phone = _login(client, owner).json(), _login(client, owner).json()

    response = client.post("/api/v1/auth/logout-everywhere", headers=_bearer(phone))

    assert response.status_code == 204
    for session in (laptop, phone):
        assert client.get("/api/v1/me", headers=_bearer(session)).status_code == 401
        again = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
        )
        assert again.status_code == 401
    assert db.scalar(select(func.count()).where(RefreshToken.revoked_at.is_(None))) == 0
    assert "user.logged_out_everywhere" in db.scalars(select(AuditEvent.action)).all()


def test_a_password_change_needs_the_current_one_and_ends_other_sessions(
    client: TestClient, owner: Person
):
    other = _login(client, owner).json()
    current = _login(client, owner).json()
    new = "a brand new passphrase"

    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": new},
        headers=_bearer(current),
    )
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": new},
        headers=_bearer(current),
    )

    assert (wrong.status_code, error_of(wrong)["field"]) == (422, "current_password")
    assert changed.status_code == 200
    assert client.get("/api/v1/me", headers=_bearer(other)).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(changed.json())).status_code == 200
    assert _login(client, owner).status_code == 401
    assert _login(client, owner, new).status_code == 200


def test_a_password_reset_is_e_mailed_once_and_ends_every_session(
    client: TestClient, db: Session, owner: Person
):
    session = _login(client, owner).json()

    asked = client.post("/api/v1/auth/password-reset", json={"email": owner.user.email})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"})

    assert (asked.status_code, unknown.status_code) == (202, 202)
    [message] = db.scalars(select(EmailMessage)).all()
    link = json.loads(message.context)["action_url"]
    token = link.split("#token=", 1)[1]
    reset = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "a brand new passphrase"},
    )
    again = client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "yet another passphrase"},
    )
    assert reset.status_code == 200
    assert (again.status_code, error_of(again)["field"]) == (400, "token")
    assert client.get("/api/v1/me", headers=_bearer(session)).status_code == 401
    assert _login(client, owner, "a brand new passphrase").status_code == 200
