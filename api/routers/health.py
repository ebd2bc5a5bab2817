"""Liveness and readiness probes, outside /api/v1 and without authentication."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from api.errors import ErrorDetail
from models.db import get_engine
from workers.broker import broker

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    checks: dict[str, str]
    error: ErrorDetail | None = None


@router.get("/healthz", summary="The process is up")
def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get(
    "/readyz",
    summary="The database and the broker are reachable",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut, "description": "A dependency is unreachable"}},
)
def readyz() -> JSONResponse:
    checks = {"database": _check(_ping_database), "broker": _check(_ping_broker)}
    failed = [name for name, result in checks.items() if result != "ok"]
    if not failed:
        return JSONResponse(ReadyOut(status="ready", checks=checks).model_dump(exclude_none=True))
    error = ErrorDetail(code="unavailable", message=f"Unreachable: {', '.join(failed)}")
    body = ReadyOut(status="unavailable", checks=checks, error=error)
    return JSONResponse(body.model_dump(), status_code=503)


def _check(ping: Callable[[], None]) -> str:
    try:
        ping()
    except Exception as exc:
        # Only the exception's type is shown: messages can carry URLs with credentials.
        log.warning("readiness check failed", exc_info=exc)
        return f"error: {type(exc).__name__}"
    return "ok"


def _ping_database() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def _ping_broker() -> None:
    if isinstance(broker, RedisBroker):
        broker.client.ping()
    elif isinstance(broker, RabbitmqBroker):
        # A connection of its own: the broker's are per thread and would linger in API threads.
        pika.BlockingConnection(broker.parameters).close()
    # The in-process StubBroker is always reachable.
