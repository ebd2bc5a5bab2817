"""API fixtures: a client on the real app, people with roles, and what reached the broker."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from core.crypto import blind_index
from core.settings import get_settings
from models import Connection, Item, Location, Membership, Organisation, Role, Scope, User
from services.accounts.passwords import hash_password
from services.accounts.tokens import issue_token
from services.scope import Scope as ApiScope
from services.team import api_keys
from workers.broker import broker

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)  # once: argon2 is slow on purpose
_serial = itertools.count(1)
# Whatever a response says, it must never carry these.
_SECRETS = ("$argon2", PASSWORD, "password_hash", "email_index", "code_verifier")


def _no_secrets(response: httpx.Response) -> None:
    response.read()
    body = response.text
    leaked = [s for s in _SECRETS if s in body]
    assert not leaked, f"{response.request.url} leaked {leaked}"


@pytest.fixture
def client(db: Session) -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        test_client.event_hooks["response"].append(_no_secrets)
        yield test_client


@pytest.fixture
def client_at(db: Session) -> Iterator[Callable[[str], TestClient]]:
    """Test clients connecting from the given addresses (as uvicorn reports the peer)."""
    clients: list[TestClient] = []

    def make(address: str) -> TestClient:
        clients.append(TestClient(create_app(), client=(address, 50000)))
        return clients[-1]

    yield make
    for each in clients:
        each.close()


@dataclass
class Person:
    user: User
    organisation: Organisation
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def scope(self, location_ids: list[int] | None = None) -> ApiScope:
        """What a service sees when this person calls (limited to ``location_ids`` if given)."""
        return ApiScope(
            organisation_id=self.organisation.id,
            role=self.role,
            user_id=self.user.id,
            location_ids=None if location_ids is None else tuple(location_ids),
        )


@pytest.fixture
def make_person(db: Session) -> Callable[..., Person]:
    def make(role: Role = Role.OWNER, organisation: Organisation | None = None) -> Person:
        n = next(_serial)
        organisation = organisation or Organisation(name=f"Organisation {n}")
        email = f"person{n}@example.com"
        user = User(
            email=email,
            email_index=blind_index(email),
            name=f"Person {n}",
            password_hash=_PASSWORD_HASH,
        )
        db.add(Membership(organisation=organisation, user=user, role=role))
        db.commit()
        token, _ = issue_token(user_id=user.id, organisation_id=organisation.id)
        return Person(user=user, organisation=organisation, role=role, token=token)

    return make


@pytest.fixture
def owner(make_person: Callable[..., Person]) -> Person:
    return make_person(Role.OWNER)


@pytest.fixture
def make_api_key(db: Session) -> Callable[..., str]:
    """A key created by ``person`` with these scopes; returns the key itself."""

    def make(person: Person, *scopes: Scope, **fields: Any) -> str:
        _, key = api_keys.create(
            db,
            scope=person.scope(),
            name="test key",
            scopes=list(scopes) or [Scope.READ],
            expires_at=fields.get("expires_at"),
        )
        db.commit()
        return key

    return make


@pytest.fixture
def make_item(db: Session) -> Callable[..., Item]:
    def make(organisation: Organisation, **fields: Any) -> Item:
        n = next(_serial)
        values: dict[str, Any] = {
            "organisation_id": organisation.id,
            "source": "google",
            "kind": "review",
            "external_id": f"review-{n}",
            "author_name": f"Reviewer {n}",
            "rating": 5,
            "text": "Lovely",
            "posted_at": datetime(2025, 1, 1, tzinfo=UTC),
        }
        item = Item(**(values | fields))
        db.add(item)
        db.commit()
        return item

    return make


def google_locations(
    db: Session, organisation_id: int, *names: str
) -> tuple[Connection, list[Location]]:
    """A Google connection of the organisation with a location for each name (committed)."""
    connection = Connection(organisation_id=organisation_id, provider="google")
    db.add(connection)
    db.flush()
    locations = [
        Location(
            organisation_id=organisation_id,
            connection_id=connection.id,
            provider="google",
            external_id=name,
            name=name,
        )
        for name in names
    ]
    db.add_all(locations)
    db.commit()
    return connection, locations


class BrokerQueue:
    """What is waiting in the real broker's default queue, as (actor name, args), in order.

    Read from Redis itself rather than by intercepting the sender, so a test sees only what
    really reached the broker."""

    def __init__(self) -> None:
        settings = get_settings()
        self.redis = redis.Redis.from_url(settings.broker_url)
        self.queue = f"{settings.broker_namespace}:default"

    def messages(self) -> list[tuple[str, tuple[Any, ...]]]:
        ids = self.redis.lrange(self.queue, 0, -1)
        bodies = self.redis.hmget(self.queue + ".msgs", ids) if ids else []
        decoded = [json.loads(body) for body in bodies if body]
        return [(m["actor_name"], tuple(m["args"])) for m in decoded]

    def __eq__(self, other: object) -> bool:
        return self.messages() == other

    def __contains__(self, message: object) -> bool:
        return message in self.messages()

    def __len__(self) -> int:
        return len(self.messages())

    def __repr__(self) -> str:
        return repr(self.messages())


@pytest.fixture
def sent() -> BrokerQueue:
    """Messages sent (after commit) to the real broker during the test; nobody consumes them."""
    broker.flush_all()
    return BrokerQueue()


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error object, after checking it has exactly the documented shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    return body["error"]
