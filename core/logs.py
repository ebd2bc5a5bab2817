"""Logging and error reporting for every process: JSON lines with no secrets, and Sentry."""

from __future__ import annotations

import contextvars
import copy
import json
import logging
import traceback
from datetime import UTC, datetime
from typing import Any

from dramatiq import Message
from dramatiq.broker import MessageProxy

from core.scrub import (
    WITHHELD_DATABASE_MESSAGE,
    before_breadcrumb,
    before_send,
    is_database_error,
    scrub_text,
)
from core.settings import get_settings

# Set by the API for the length of a request, so every line it logs carries the id.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub_text(_without_arguments(record)),
        }
        rid = request_id.get()
        if rid:
            line["request_id"] = rid
        if record.exc_info:
            line["exception"] = scrub_text(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)

    def formatException(self, ei: Any) -> str:
        # The stack stays; a database error's own text (which quotes the values it failed on,
        # e.g. `invalid input syntax for type integer: "<what the client sent>"`) does not.
        report = traceback.TracebackException(*ei)
        seen: set[int] = set()
        pending = [report]
        while pending:
            each = pending.pop()
            if id(each) in seen:
                continue
            seen.add(id(each))
            if is_database_error(each.exc_type):
                each._str = WITHHELD_DATABASE_MESSAGE
            pending += [e for e in (each.__cause__, each.__context__) if e is not None]
        return "".join(report.format()).rstrip("\n")


_ACTOR_ARGUMENTS = "Received args=%r kwargs=%r."


def _without_arguments(record: logging.LogRecord) -> str:
    """The record's message, but dramatiq's messages by their actor's name alone: dramatiq logs
    each message with its arguments (webhook payloads, what customers typed), at DEBUG and in
    warnings, which no scrubber can clean reliably."""
    if record.msg == _ACTOR_ARGUMENTS:
        return "Received a message (arguments not logged)."
    if isinstance(record.args, tuple) and any(
        isinstance(arg, Message | MessageProxy) for arg in record.args
    ):
        record = copy.copy(record)
        record.args = tuple(
            f"{arg.actor_name}(…)" if isinstance(arg, Message | MessageProxy) else arg
            for arg in record.args
        )
    return record.getMessage()


def setup_logging() -> None:
    settings = get_settings()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    # Client libraries log full URLs at DEBUG/INFO, which may carry tokens in query strings.
    for noisy in ("httpx", "urllib3", "googleapiclient.discovery", "pika", "pgserver", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    setup_sentry(settings.sentry_dsn.get_secret_value())


def setup_sentry(dsn: str) -> None:
    if not dsn:
        return
    import sentry_sdk
    from sentry_sdk.integrations.dramatiq import DramatiqIntegration
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    sentry_sdk.init(
        dsn=dsn,
        send_default_pii=False,
        include_source_context=False,  # source lines may hold literals we would rather not ship
        include_local_variables=False,  # locals hold tokens and addresses
        max_request_body_size="never",
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
        integrations=[
            StarletteIntegration(),
            FastApiIntegration(),
            DramatiqIntegration(),
            SqlalchemyIntegration(),
        ],
    )
