"""NIST SP 800-63B passwords: long enough, and not common, breached, repetitive or sequential —
wherever a password is set."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from plaudit.passwords import weakness
from tests.api.conftest import PASSWORD, Person, error_of

WEAK = ["aaaaaaaaaa", "1234567890", " " * 10, "password123", "qwertyuiop", "iloveyou12"]


@pytest.mark.parametrize("password", WEAK)
def test_common_repetitive_and_sequential_passwords_are_refused(password: str):
    assert weakness(password) is not None


@pytest.mark.parametrize("password", [PASSWORD, "grace's passphrase", "Tr0ub4dor&3x-mint"])
def test_passphrases_pass(password: str):
    assert weakness(password) is None


def test_the_persons_own_words_count_as_guessable():
    assert weakness("Quokkabrindle") is None
    assert weakness("Quokkabrindle", context=("Quokkabrindle Bakery", "x@example.com"))


@pytest.mark.parametrize("password", WEAK)
def test_sign_up_refuses_a_weak_password_naming_the_field(client: TestClient, password: str):
    body = {
        "email": "ada@example.com",
        "password": password,
        "name": "Ada",
        "organisation_name": "Ada's",
    }
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 422
    error = error_of(response)
    assert error["field"] == "password"
    assert "guess" in error["message"] or "characters" in error["message"]


def test_sign_up_refuses_the_persons_own_words(client: TestClient):
    body = {
        "email": "quokka@example.com",
        "password": "Quokkabrindle",
        "name": "Quokka Brindle",
        "organisation_name": "Quokkabrindle Bakery",
    }
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == 422
    assert error_of(response)["field"] == "password"


def test_changing_a_password_refuses_a_weak_one(client: TestClient, owner: Person):
    response = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "1234567890"},
        headers=owner.headers,
    )
    assert response.status_code == 422
    assert error_of(response)["field"] == "new_password"


def test_a_reset_refuses_a_weak_password(client: TestClient):
    response = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": "t", "new_password": "aaaaaaaaaa"}
    )
    assert response.status_code == 422
    assert error_of(response)["field"] == "new_password"
