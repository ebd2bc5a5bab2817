"""Password-reset and sign-up requests: recorded, a few e-mails per address an hour (silently),
and a ceiling per client (429)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from core.crypto import blind_index
from models import AccountRequest, EmailMessage, Organisation, SignupRequest
from tests.api.conftest import PASSWORD, Person, error_of

RESET = "/api/v1/auth/password-reset"
SIGNUP = "/api/v1/auth/signup"


def _emails_to(db: Session, address: str) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).where(EmailMessage.to_index == blind_index(address)))


def _an_hour_passes(db: Session) -> None:
    db.execute(
        update(AccountRequest).values(
            created_at=AccountRequest.created_at - text("interval '61 minutes'")
        )
    )
    db.commit()


def test_twenty_reset_requests_send_three_e_mails_and_answer_alike(
    client: TestClient, db: Session, owner: Person, configure: Callable[..., None]
):
    configure(account_requests_per_client_per_hour=100)
    answers = {
        (r.status_code, r.text)
        for r in (client.post(RESET, json={"email": owner.user.email}) for _ in range(20))
    }
    unknown = client.post(RESET, json={"email": "nobody@example.com"})

    assert answers == {(unknown.status_code, unknown.text)} == {(202, '{"status":"requested"}')}
    assert _emails_to(db, owner.user.email) == 3
    # Every request is on record, by blind index and client only
    assert db.scalar(select(func.count()).select_from(AccountRequest)) == 21
    assert db.scalar(select(func.count()).where(AccountRequest.emailed)) == 3

    _an_hour_passes(db)
    client.post(RESET, json={"email": owner.user.email})
    assert _emails_to(db, owner.user.email) == 4


def test_one_client_is_refused_after_its_share_of_reset_requests(
    owner: Person, configure: Callable[..., None], client_at: Callable[[str], TestClient]
):
    configure(account_requests_per_client_per_hour=3)
    noisy, other = client_at("203.0.113.66"), client_at("198.51.100.7")
    for n in range(3):
        assert noisy.post(RESET, json={"email": f"someone{n}@example.com"}).status_code == 202

    refused = noisy.post(RESET, json={"email": owner.user.email})

    assert refused.status_code == 429
    assert error_of(refused)["code"] == "too_many_requests"
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert other.post(RESET, json={"email": owner.user.email}).status_code == 202


def test_sign_ups_are_throttled_per_client(
    configure: Callable[..., None], client_at: Callable[[str], TestClient]
):
    configure(account_requests_per_client_per_hour=2)
    bot, person = client_at("203.0.113.66"), client_at("198.51.100.7")
    body = {"password": PASSWORD, "name": "Ada", "organisation_name": "Shop"}
    for n in range(2):
        assert bot.post(SIGNUP, json=body | {"email": f"bot{n}@example.com"}).status_code == 202

    refused = bot.post(SIGNUP, json=body | {"email": "bot9@example.com"})

    assert (refused.status_code, error_of(refused)["code"]) == (429, "too_many_requests")
    assert person.post(SIGNUP, json=body | {"email": "ada@example.com"}).status_code == 202


def test_sign_ups_e_mail_an_address_a_few_times_an_hour_at_most(
    client: TestClient, db: Session, owner: Person
):
    body = {"password": PASSWORD, "name": "Ada", "organisation_name": "Shop"}
    for _ in range(5):
        assert client.post(SIGNUP, json=body | {"email": "ada@example.com"}).status_code == 202
        assert client.post(SIGNUP, json=body | {"email": owner.user.email}).status_code == 202

    # Three links to the new address (and three pending organisations), three notices
    assert _emails_to(db, "ada@example.com") == 3
    assert db.scalar(select(func.count()).select_from(SignupRequest)) == 3
    assert db.scalar(select(func.count()).select_from(Organisation)) == 1 + 3
    assert _emails_to(db, owner.user.email) == 3
