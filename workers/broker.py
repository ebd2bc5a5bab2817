"""The dramatiq broker, built from ``PLAUDIT_BROKER_URL``.

Imported before any actor module: dramatiq binds actors to the global broker when they are
declared, so the broker must exist first.
"""

from __future__ import annotations

import dramatiq
from dramatiq.broker import Broker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage

from core.settings import get_settings


def make_broker(url: str, *, namespace: str = "plaudit") -> Broker:
    broker = _broker_for(url, namespace=namespace)
    # Actors may read the message they run (a sync asks when it was requested).
    broker.add_middleware(CurrentMessage())
    return broker


def _broker_for(url: str, *, namespace: str) -> Broker:
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        # A dead worker's unacknowledged messages go back to the queue after this long.
        return RedisBroker(url=url, namespace=namespace, heartbeat_timeout=15_000)
    if url.startswith("stub://"):
        return StubBroker()
    raise ValueError("PLAUDIT_BROKER_URL must start with amqp://, redis:// or stub://")


broker = make_broker(get_settings().broker_url, namespace=get_settings().broker_namespace)
dramatiq.set_broker(broker)

# Every process with a broker sends what services asked for after their commits (see
# services.jobs); imported here, after the broker exists, so that no process can forget it.
import workers.enqueue  # noqa: E402, F401
