"""Log-in throttling, rotating refresh tokens, log-out, log-out everywhere, password change."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from models import AuditEvent, EmailMessage, LoginFailure, RefreshToken
from tests.api.conftest import PASSWORD, Person, error_of

# A failed log-in is recorded in a session of its own that commits while the request's rolls
# back; one connection cannot hold two independent transactions, so these tests commit for real.
FAILURES_OUTLIVE_THE_REQUEST = pytest.mark.commits

LOGIN = "/api/v1/auth/login"


def _login(client: TestClient, person: Person, password: str = PASSWORD):
    return client.post(LOGIN, json={"email": person.user.email, "password": password})


def _bearer(body: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {body['access_token']}"}


def _shift_failures(db: Session, seconds: float) -> None:
    """As if that much time had passed since every failure (the database's clock is the one
    the throttle reads)."""
    db.execute(
        update(LoginFailure).values(
            created_at=LoginFailure.created_at - text(f"interval '{seconds} seconds'")
        )
    )
    db.commit()


AHEAD = 10.0


def _refused_wait(db: Session, attempt: Callable[[], object]) -> tuple[float, float]:
    """The bounds of the slowdown a refused attempt was given, whatever the machine's load.

    The throttle answers ``ceil(latest failure + slowdown - now)`` by the database's clock,
    read somewhere between the moment the test moves the latest failure ``AHEAD`` seconds into
    the future (so that even a slow request is still refused) and the answer; the test reads
    that clock at both ends, so a request that took long widens the bounds instead of failing.
    """
    latest = select(func.max(LoginFailure.id)).scalar_subquery()
    moved_at = db.scalar(
        update(LoginFailure)
        .where(LoginFailure.id == latest)
        .values(created_at=func.clock_timestamp() + timedelta(seconds=AHEAD))
        .returning(LoginFailure.created_at)
    ) - timedelta(seconds=AHEAD)
    db.commit()
    refused = attempt()
    answered_at = db.scalar(select(func.clock_timestamp()))
    db.commit()
    assert (refused.status_code, error_of(refused)["code"]) == (429, "too_many_attempts")
    retry_after = int(refused.headers["Retry-After"])
    took = (answered_at - moved_at).total_seconds()
    return retry_after - AHEAD - 1, retry_after - AHEAD + took


@FAILURES_OUTLIVE_THE_REQUEST
def test_a_client_is_locked_out_of_an_account_after_repeated_failures_even_with_the_right_password(
    client: TestClient, db: Session, owner: Person, configure: Callable[..., None]
):
    configure(login_max_failures_per_account_client=3)
    # Given three wrong passwords from one client
    for _ in range(3):
        assert _login(client, owner, "wrong password!").status_code == 401

    # When the right one comes next from that client
    refused = _login(client, owner)

    # Then it is refused for now, with a hint of when to come back
    assert refused.status_code == 429
    assert error_of(refused)["code"] == "too_many_attempts"
    assert 1 <= int(refused.headers["Retry-After"]) <= 900
    assert db.scalar(select(func.count()).select_from(LoginFailure)) == 3
    assert owner.user.email not in refused.text


@FAILURES_OUTLIVE_THE_REQUEST
def test_the_owner_logs_in_from_another_client_while_an_attacker_is_locked_out(
    owner: Person, configure: Callable[..., None], client_at: Callable[[str], TestClient]
):
    configure(login_max_failures_per_account_client=5)
    attacker, owners_laptop = client_at("203.0.113.66"), client_at("198.51.100.7")
    for _ in range(5):
        assert _login(attacker, owner, "wrong password!").status_code == 401

    assert _login(attacker, owner).status_code == 429
    assert _login(owners_laptop, owner).status_code == 200
    assert _login(attacker, owner).status_code == 429


@FAILURES_OUTLIVE_THE_REQUEST
def test_an_account_guessed_at_from_many_clients_is_slowed_down_not_locked(
    db: Session,
    owner: Person,
    configure: Callable[..., None],
    client_at: Callable[[str], TestClient],
):
    configure(login_slowdown_after_account_failures=2, login_slowdown_max_seconds=8)
    # Given failures from two clients, which reach the account's ceiling
    for n in (1, 2):
        assert _login(client_at(f"203.0.113.{n}"), owner, "wrong password!").status_code == 401

    # Then every further attempt waits twice as long after the latest failure, up to the cap
    bounds = []
    for n in range(3, 8):
        guesser = client_at(f"203.0.113.{n}")
        bounds.append(_refused_wait(db, lambda guesser=guesser: _login(guesser, owner)))
        _shift_failures(db, AHEAD + bounds[-1][1] + 1)
        assert _login(guesser, owner, "wrong password!").status_code == 401
    for (low, high), wait in zip(bounds, [1, 2, 4, 8, 8], strict=True):
        assert low < wait <= high

    # And once the wait is over, the owner gets in from anywhere: slowed, never locked out
    _shift_failures(db, 8)
    assert _login(client_at("198.51.100.7"), owner).status_code == 200


@FAILURES_OUTLIVE_THE_REQUEST
def test_a_noisy_client_slows_down_but_does_not_lock_out_other_accounts(
    db: Session,
    make_person: Callable[..., Person],
    configure: Callable[..., None],
    client_at: Callable[[str], TestClient],
):
    configure(login_slowdown_after_client_failures=3)
    office = client_at("192.0.2.10")  # one address in front of many people
    for person in [make_person() for _ in range(3)]:
        assert _login(office, person, "wrong password!").status_code == 401
    colleague = make_person()

    low, high = _refused_wait(db, lambda: _login(office, colleague))
    _shift_failures(db, AHEAD + high + 1)

    assert low < 1 <= high
    assert _login(office, colleague).status_code == 200
    assert _login(client_at("192.0.2.11"), make_person()).status_code == 200


@FAILURES_OUTLIVE_THE_REQUEST
def test_a_success_clears_only_its_own_clients_failures(
    owner: Person, configure: Callable[..., None], client_at: Callable[[str], TestClient]
):
    configure(login_max_failures_per_account_client=3)
    mine, theirs = client_at("198.51.100.7"), client_at("203.0.113.66")
    for attempt in (mine, mine, theirs, theirs):
        assert _login(attempt, owner, "wrong password!").status_code == 401

    assert _login(mine, owner).status_code == 200
    assert _login(mine, owner, "wrong password!").status_code == 401
    assert _login(mine, owner, "wrong password!").status_code == 401
    assert _login(mine, owner).status_code == 200
    assert _login(theirs, owner, "wrong password!").status_code == 401
    assert _login(theirs, owner).status_code == 429


@FAILURES_OUTLIVE_THE_REQUEST
def test_failures_outside_the_window_do_not_count(
    client: TestClient, db: Session, owner: Person, configure: Callable[..., None]
):
    configure(login_max_failures_per_account_client=2)
    _login(client, owner, "wrong password!")
    _login(client, owner, "wrong password!")
    assert _login(client, owner).status_code == 429
    db.execute(update(LoginFailure).values(created_at=text("now() - interval '1 hour'")))
    db.commit()

    assert _login(client, owner).status_code == 200


@FAILURES_OUTLIVE_THE_REQUEST
def test_a_password_reset_is_never_blocked_by_failed_log_ins(
    client: TestClient, db: Session, owner: Person
):
    # Given an attacker who spent every guess on the account from this very client
    for _ in range(5):
        _login(client, owner, "wrong password!")
    assert _login(client, owner).status_code == 429

    # Then the owner can still ask for a reset link, and it is sent
    asked = client.post("/api/v1/auth/password-reset", json={"email": owner.user.email})

    assert asked.status_code == 202
    [message] = db.scalars(select(EmailMessage)).all()
    assert "#token=" in json.loads(message.context)["action_url"]


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
