"""Outbound webhooks: signed deliveries after commit, retries with backoff, auto-disable."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import targets
from models import EmailMessage, Webhook, WebhookDelivery
from services.webhooks.emit import emit
from tests.api.conftest import Person
from tests.service_calls import deliver_webhook as deliver


class Receiver:
    """A real HTTP endpoint on loopback that records requests and answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture
def endpoint(
    client: TestClient, owner: Person, receiver: Receiver, configure: Callable[..., None]
) -> dict:
    configure(webhook_allow_private_targets=True, webhook_disable_after_failures=1)
    created = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": receiver.url, "events": ["item.created", "reply.sent"]},
        headers=owner.headers,
    )
    assert created.status_code == 201
    return created.json()


def test_an_event_is_delivered_signed_after_commit(
    db: Session, owner: Person, receiver: Receiver, endpoint: dict, sent
):
    # Given an event emitted in a transaction
    count = emit(db, organisation_id=owner.organisation.id, event="item.created", payload={"id": 7})
    emit(db, organisation_id=owner.organisation.id, event="item.updated", payload={"id": 7})
    assert count == 1 and sent == []  # nothing leaves before the commit
    db.commit()
    delivery = db.scalar(select(WebhookDelivery))
    assert sent == [("webhooks.deliver", (delivery.id,))]

    # When the worker delivers it
    assert deliver(delivery.id) == "delivered"

    # Then the receiver can check origin and freshness
    [(headers, body)] = receiver.requests
    timestamp, signature = (
        part.split("=", 1)[1] for part in headers["X-Plaudit-Signature"].split(",")
    )
    expected = hmac.new(
        endpoint["secret"].encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    )
    assert hmac.compare_digest(signature, expected.hexdigest())
    assert abs(int(timestamp) - datetime.now(UTC).timestamp()) < 60
    assert json.loads(body)["event"] == "item.created" and json.loads(body)["data"] == {"id": 7}
    assert headers["X-Plaudit-Event"] == "item.created"
    assert deliver(delivery.id) == "delivered" and len(receiver.requests) == 1  # once only


def test_failures_are_retried_with_backoff_then_dropped_and_the_endpoint_disabled(
    client: TestClient, db: Session, owner: Person, receiver: Receiver, endpoint: dict, sent
):
    receiver.status = 500
    emit(db, organisation_id=owner.organisation.id, event="reply.sent", payload={"id": 1})
    db.commit()
    delivery = db.scalar(select(WebhookDelivery))

    # A first failure: retried about 30 seconds later.
    assert deliver(delivery.id) == "pending"
    db.refresh(delivery)
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    wait = delivery.next_attempt_at - datetime.now(UTC)
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)
    assert sent.redis.llen(sent.queue + ".DQ") == 1  # the retry waits in the delay queue

    # A failure a day after the event: dropped, and the endpoint disabled with a notice.
    db.execute(update(WebhookDelivery).values(created_at=datetime.now(UTC) - timedelta(days=1)))
    db.commit()
    assert deliver(delivery.id) == "failed"
    webhook = db.scalar(select(Webhook))
    db.refresh(webhook)
    assert not webhook.active and webhook.disabled_at is not None
    notice = db.scalar(select(EmailMessage))
    assert notice is not None and notice.organisation_id == owner.organisation.id

    log = client.get(
        f"/api/v1/webhook-endpoints/{endpoint['webhook']['id']}/deliveries", headers=owner.headers
    ).json()["deliveries"]
    assert [(d["status"], d["attempts"], d["last_error"]) for d in log] == [
        ("failed", 2, "answered 500")
    ]
    # Disabled endpoints get no new deliveries until re-enabled.
    assert emit(db, organisation_id=owner.organisation.id, event="reply.sent", payload={}) == 0


def test_private_addresses_are_refused_unless_allowed(
    db: Session, owner: Person, receiver: Receiver, endpoint: dict, configure
):
    configure(webhook_allow_private_targets=False)
    emit(db, organisation_id=owner.organisation.id, event="item.created", payload={})
    db.commit()
    delivery = db.scalar(select(WebhookDelivery))

    assert deliver(delivery.id) == "pending"
    db.refresh(delivery)
    assert delivery.last_error == "the host is a private or local address"
    assert receiver.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://192.168.1.20/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "http://localhost:8000/",
        "http://user:pw@hooks.example.com/",
        "ftp://hooks.example.com/",
    ],
)
def test_a_url_we_must_not_call_is_refused_at_registration(
    client: TestClient, owner: Person, configure, url: str
):
    configure(webhook_allow_private_targets=False)
    response = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": url, "events": ["item.created"]},
        headers=owner.headers,
    )
    assert response.status_code == 422, url
    assert response.json()["error"]["field"] == "url"


def test_credentials_are_refused_even_where_private_targets_are_allowed(
    client: TestClient, owner: Person, configure
):
    configure(webhook_allow_private_targets=True)
    response = client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "http://user:pw@127.0.0.1:9/hook", "events": ["item.created"]},
        headers=owner.headers,
    )
    assert response.status_code == 422
    assert "credentials" in response.json()["error"]["message"]


def test_a_delivery_connects_to_the_address_that_passed_the_check(
    db: Session, owner: Person, receiver: Receiver, configure, monkeypatch
):
    # Given a name served by a rebinding DNS server: the first answer is our receiver's
    # address, every later one another address
    configure(webhook_allow_private_targets=True)
    port = receiver.server.server_port
    answers = iter([["127.0.0.1"]])
    calls: list[str] = []

    def rebinding(host: str, _port: int) -> list[str]:
        calls.append(host)
        return next(answers, ["127.0.0.2"])

    db.add(
        Webhook(
            organisation_id=owner.organisation.id,
            url=f"http://hooks.rebinding.test:{port}/hook",
            secret="whsec_test",
            events=["item.created"],
        )
    )
    db.commit()
    monkeypatch.setattr(targets, "resolve", rebinding)
    emit(db, organisation_id=owner.organisation.id, event="item.created", payload={})
    db.commit()

    # When it is delivered
    assert deliver(db.scalar(select(WebhookDelivery.id))) == "delivered"

    # Then the name was resolved once and the request went to that address, named by its host
    assert calls == ["hooks.rebinding.test"]
    [(headers, _)] = receiver.requests
    assert headers["Host"] == f"hooks.rebinding.test:{port}"


def test_a_name_that_now_resolves_privately_is_refused_at_delivery(
    db: Session, owner: Person, receiver: Receiver, configure, monkeypatch
):
    configure(webhook_allow_private_targets=False)
    db.add(
        Webhook(
            organisation_id=owner.organisation.id,
            url="https://hooks.rebinding.test/hook",
            secret="whsec_test",
            events=["item.created"],
        )
    )
    db.commit()
    monkeypatch.setattr(targets, "resolve", lambda host, port: ["10.1.2.3"])
    emit(db, organisation_id=owner.organisation.id, event="item.created", payload={})
    db.commit()
    delivery = db.scalar(select(WebhookDelivery))

    assert deliver(delivery.id) == "pending"
    db.refresh(delivery)
    assert delivery.last_error == "the host is a private or local address"
