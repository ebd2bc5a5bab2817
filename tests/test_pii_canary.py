"""PII canaries: unique values pushed through every input path must end up nowhere in clear text
— not in any database column, not in a log line, not in a sent e-mail. Encrypted columns and
blind indexes may hold them only in their protected form."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text

from models.base import Base
from plaudit.logs import JsonFormatter
from tests.fixtures import consent
from tests.support import ApiServer, free_port, set_env, sign_up, wait_for
from workers.broker import broker
from workers.runner import start_worker


def luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randint(0, 9) for _ in range(14)]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    digits.append((10 - total % 10) % 10)
    return "".join(map(str, digits))


@pytest.fixture
def canaries() -> dict[str, str]:
    rng = random.Random(uuid.uuid4().int)
    tag = uuid.uuid4().hex[:10]
    return {
        "email": f"canary.{tag}@example.com",
        "card": luhn_card(rng),
        "phone": f"+44 20 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        "name": f"Canary{tag.capitalize()}",
    }


@pytest.fixture
def logs() -> Iterator[list[str]]:
    """Every log line of the test, as the JSON formatter writes it."""
    lines: list[str] = []
    formatter = JsonFormatter()

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(formatter.format(record))

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lines
    root.removeHandler(handler)
    root.setLevel(previous)


def database_as_text(db) -> str:
    parts = [
        db.execute(
            text(f"SELECT coalesce(string_agg(t::text, ' '), '') FROM \"{name}\" t")
        ).scalar()
        for name in Base.metadata.tables
    ]
    return "\n".join(parts)


def test_canaries_are_nowhere_in_clear_text(db, sandbox, canaries, logs):
    port = free_port()
    set_env(public_url=f"http://127.0.0.1:{port}")
    broker.flush_all()
    worker = start_worker(threads=2)
    try:
        with ApiServer(port) as server, httpx.Client(base_url=server.url, timeout=20) as api:
            # API: a person signs up with the canary address
            signup = sign_up(
                api,
                {
                    "email": canaries["email"],
                    "password": "correct horse battery",
                    "name": canaries["name"],
                    "organisation_name": "Canary Bakery",
                },
            )
            api.headers["Authorization"] = f"Bearer {signup['access_token']}"

            # Sync: a customer types their details into a Google review
            location = httpx.get(f"{sandbox.url}/_admin/locations").json()["locations"][0]
            httpx.post(
                f"{sandbox.url}/_admin/reviews",
                json={
                    "location": location["name"],
                    "starRating": "ONE",
                    "comment": f"Refund to card {canaries['card']}, call {canaries['phone']} "
                    f"or mail {canaries['email']}",
                },
            ).raise_for_status()

            # OAuth: the grant's tokens are canaries too
            start = api.post("/api/v1/connections/google/authorize", json={}).json()
            api.get(
                "/api/v1/connections/google/callback", params=consent(start["authorization_url"])
            )
            tokens = httpx.get(f"{sandbox.url}/_admin/tokens").json()

            def synced():
                """the canary review is in the inbox"""
                items = api.get("/api/v1/items", params={"limit": 100}).json()["items"]
                return [i for i in items if i["text"] and "Refund to card" in i["text"]]

            item = wait_for(synced, timeout=30)[0]
            tokens = httpx.get(f"{sandbox.url}/_admin/tokens").json()
            assert "[redacted:card]" in item["text"] and "[redacted:email]" in item["text"]
    finally:
        worker.stop()

    secrets = dict(canaries)
    for n, value in enumerate(_token_values(tokens)):
        secrets[f"token{n}"] = value
    assert len(secrets) > len(canaries), "the sandbox issued no tokens to check"
    stored = database_as_text(db)
    logged = "\n".join(logs)
    for kind, value in secrets.items():
        assert value not in stored, f"the {kind} canary is stored in clear text"
        assert value not in logged, f"the {kind} canary reached the log"
    assert logs, "nothing was logged: the log check proved nothing"


def _token_values(tokens: object) -> list[str]:
    """Every access or refresh token string the sandbox lists, whatever its shape."""
    found: list[str] = []
    if isinstance(tokens, dict):
        for key, value in tokens.items():
            if isinstance(value, str) and key in ("access_token", "refresh_token", "token"):
                found.append(value)
            else:
                found += _token_values(value)
    elif isinstance(tokens, list):
        for value in tokens:
            found += _token_values(value)
    return found
