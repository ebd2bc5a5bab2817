"""Which client address log-in throttling sees: X-Forwarded-For only from a trusted proxy."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import LoginFailure
from tests.api.conftest import Person
from tests.support import Process, free_port, wait_for


def _serve(trusted: str) -> tuple[Process, str]:
    port = free_port()
    process = Process(
        "api",
        "--port",
        str(port),
        env={"PLAUDIT_TRUSTED_PROXIES": trusted, "PLAUDIT_LOGIN_MAX_FAILURES_PER_CLIENT": "2"},
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        """the API answers"""
        try:
            return httpx.get(url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=30)
    return process, url


def _guesses(url: str, person: Person) -> list[int]:
    answers = []
    for forwarded in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        answers.append(
            httpx.post(
                url + "/api/v1/auth/login",
                json={"email": person.user.email, "password": "wrong password!"},
                headers={"X-Forwarded-For": forwarded},
                timeout=10,
            ).status_code
        )
    return answers


@pytest.mark.parametrize(
    ("trusted", "answers", "addresses"),
    [
        # Nobody trusted (the default): the header is anyone's to write, and is ignored
        ("", [401, 401, 429], {"127.0.0.1"}),
        # Behind our own proxy: each forwarded client is its own client
        ("127.0.0.1", [401, 401, 401], {"198.51.100.1", "198.51.100.2", "198.51.100.3"}),
    ],
)
def test_forwarded_addresses_count_only_from_trusted_proxies(
    db: Session,
    make_person: Callable[..., Person],
    trusted: str,
    answers: list[int],
    addresses: set[str],
):
    person = make_person()
    process, url = _serve(trusted)
    try:
        assert _guesses(url, person) == answers
    finally:
        process.stop()
    assert set(db.scalars(select(LoginFailure.ip))) == addresses
