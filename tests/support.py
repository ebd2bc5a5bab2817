"""Helpers for tests that run real servers, workers and brokers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from core.settings import get_settings


def this_runs_broker() -> Any:
    """The broker of this test run (its own Redis namespace), with every actor's queue
    declared, so that ``flush_all`` empties them all."""
    import workers.actors  # noqa: F401  (declares the queues)
    from workers.broker import broker

    return broker


def delayed_messages() -> list[dict[str, Any]]:
    """The messages waiting in the broker's delay queue, as dramatiq stores them (Redis)."""
    namespace = get_settings().broker_namespace
    return [json.loads(m) for m in this_runs_broker().client.hvals(f"{namespace}:default.DQ.msgs")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until ``predicate`` returns something truthy; fail the test with a clear message."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"condition not met within {timeout}s: {predicate.__doc__ or predicate}"
            )
        time.sleep(interval)


def emailed_link(address: str) -> str:
    """The action link of the newest e-mail queued to ``address`` (read from the outbox)."""
    from sqlalchemy import select

    from core.crypto import blind_index
    from models import EmailMessage
    from models.db import session_scope

    with session_scope() as session:
        message = session.scalars(
            select(EmailMessage)
            .where(EmailMessage.to_index == blind_index(address))
            .order_by(EmailMessage.id.desc())
            .limit(1)
        ).first()
        assert message is not None, "no e-mail was queued to the address"
        return json.loads(message.context)["action_url"]


def sign_up(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Sign up as anyone does: ask, follow the e-mailed link, confirm. Returns the
    confirmation's body (tokens, user, organisation)."""
    asked = client.post("/api/v1/auth/signup", json=body)
    assert asked.status_code == 202, asked.text
    token = emailed_link(body["email"]).split("#token=", 1)[1]
    confirmed = client.post("/api/v1/auth/signup/confirm", json={"token": token})
    assert confirmed.status_code == 201, confirmed.text
    return confirmed.json()


class ApiServer:
    """The real API under uvicorn on a loopback port, in a thread."""

    def __init__(self, port: int) -> None:
        import uvicorn

        from api.app import create_app
        from api.proxies import uvicorn_proxy_options

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_app(),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            **uvicorn_proxy_options(),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ApiServer:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class Process:
    """A `plaudit` command in a child process, with this process's environment."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "plaudit.cli", *args],
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._terminated = False

    def kill(self) -> None:
        """As a crash would: no clean-up, no acknowledgements."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self) -> None:
        """Ask it to stop, without waiting: several children shut down side by side."""
        if self.proc.poll() is None and not self._terminated:
            self.proc.send_signal(signal.SIGTERM)
            self._terminated = True

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.stdout.read() if self.proc.stdout else ""


class PrivateRedis:
    """A Redis server of our own, so a test can stop and restart the broker."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        wait_for(lambda: _pings(client), timeout=10)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False
