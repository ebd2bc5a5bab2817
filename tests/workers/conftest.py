"""Fixtures of the worker tests that run the whole product against the Facebook sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from core.settings import get_settings
from tests.support import ApiServer, free_port, sign_up, this_runs_broker
from tests.workers.facebook_support import fb_admin, use_facebook_app
from workers.broker import broker
from workers.runner import start_worker


@pytest.fixture(autouse=True)
def facebook_throttles_closed() -> Iterator[None]:
    """Facebook's shared usage figures and throttle windows (in the broker's Redis) are keyed by
    the Graph host and the page: a later test's sandbox may get the same port and page ids, so
    what a test's refusals opened is closed after it."""
    yield
    client = getattr(this_runs_broker(), "client", None)  # on RabbitMQ they are in PostgreSQL
    keys = client.keys(f"{get_settings().broker_namespace}:max:facebook:*") if client else []
    if keys:
        client.delete(*keys)


@pytest.fixture
def facebook_api(db, sandbox, configure) -> Iterator[httpx.Client]:
    """The real API on a loopback port and a worker on the real broker, with the sandbox as
    Facebook; signed up as an owner, with Facebook's webhooks pointed at the API."""
    port = free_port()
    use_facebook_app(configure)
    configure(public_url=f"http://127.0.0.1:{port}")
    broker.flush_all()
    worker = start_worker(threads=2)
    try:
        with ApiServer(port) as server, httpx.Client(base_url=server.url, timeout=20) as client:
            signup = sign_up(
                client,
                {
                    "email": "owner@cafe.example",
                    "password": "correct horse battery",
                    "name": "Olive Owner",
                    "organisation_name": "Olive's Café",
                },
            )
            client.headers["Authorization"] = f"Bearer {signup['access_token']}"
            fb_admin(
                sandbox,
                "PATCH",
                "/settings",
                json={"webhook_url": f"{server.url}/api/v1/webhooks/facebook"},
            )
            yield client
    finally:
        worker.stop()


@pytest.fixture
def idle_api(db, sandbox, configure) -> Iterator[httpx.Client]:
    """The real API on a loopback port, signed up as an owner; no worker runs (they are busy)."""
    port = free_port()
    configure(public_url=f"http://127.0.0.1:{port}")
    this_runs_broker().flush_all()
    try:
        with ApiServer(port) as server, httpx.Client(base_url=server.url, timeout=20) as client:
            signup = sign_up(
                client,
                {
                    "email": "owner@bakery.example",
                    "password": "correct horse battery",
                    "name": "Olive Owner",
                    "organisation_name": "Olive's Bakery",
                },
            )
            client.headers["Authorization"] = f"Bearer {signup['access_token']}"
            yield client
    finally:
        this_runs_broker().flush_all()
