"""An ``X-Request-ID`` on every response, to tie a client's report to our log lines, and one
access-log line per request: method, path and status, never the query string (an OAuth callback
carries the authorization code there)."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import request_id as request_id_var

log = logging.getLogger("plaudit.access")

# A caller's id is echoed only if it cannot smuggle anything into our headers or logs.
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIdMiddleware:
    """Plain ASGI rather than BaseHTTPMiddleware: no extra task or buffering per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SANE.fullmatch(incoming) else uuid.uuid4().hex
        # request.state, so that the handler of unexpected errors can quote it too.
        scope.setdefault("state", {})["request_id"] = request_id

        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
                log.info(
                    "%s %s %s %.1fms request_id=%s",
                    scope["method"],
                    scope["path"],
                    message["status"],
                    (time.perf_counter() - started) * 1000,
                    request_id,
                )
            await send(message)

        token = request_id_var.set(request_id)  # for every log line of this request
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
