"""ASGI middleware in front of every provider route: counts requests and applies faults.

Admin routes (`/_admin/…`) bypass it, so driving the sandbox never disturbs what a test
asserts about provider traffic.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.sandbox import google_http
from connectors.sandbox.faults import Fault
from connectors.sandbox.state import SandboxState

ADMIN_PREFIX = "/_admin"
OAUTH_PREFIXES = ("/google-oauth2", "/google-accounts")
# Token-endpoint errors use OAuth's shape; google-auth retries the 5xx/429 ones.
OAUTH_FAULTS = {
    401: ("invalid_client", "The OAuth client was not found."),
    403: ("access_denied", "Forbidden"),
    404: ("invalid_request", "Not Found"),
    429: ("rate_limit_exceeded", "Rate limit exceeded"),
    500: ("internal_failure", "Backend Error"),
    503: ("temporarily_unavailable", "Service unavailable"),
}


def fault_response(fault: Fault, path: str) -> Response:
    assert fault.status is not None
    if path.startswith(OAUTH_PREFIXES):
        error, description = OAUTH_FAULTS[fault.status]
        body = {"error": error, "error_description": description}
        response = google_http.json_response(body, fault.status)
    elif fault.status == 401:
        response = google_http.unauthenticated(path)
    elif fault.status == 403:
        response = google_http.permission_denied(path, fault.reason)
    elif fault.status == 429:
        response = google_http.quota_exceeded(path, fault.quota_limit_value)
    else:
        response = google_http.google_error(path, fault.status)
    if fault.retry_after is not None:
        seconds = fault.retry_after
        response.headers["Retry-After"] = str(int(seconds) if seconds == int(seconds) else seconds)
    return response


async def drop_connection(receive: Receive, send: Send) -> None:
    """Close the client's connection without an answer, as a reset or a dying proxy would.

    ASGI has no way to say this, so it reaches the server's transport: uvicorn's ``send`` is a
    method of the request cycle that holds it.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("this ASGI server does not let the sandbox drop a connection")
    transport.close()
    # Wait until the server has seen the connection go, or it would answer a 500 of its own.
    while (await receive())["type"] != "http.disconnect":
        pass


def _authorization(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"authorization":
            return value.decode("latin-1")
    return None


class FrontDoor:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        entry = self.state.traffic.record(method, path, scope["query_string"].decode("latin-1"))

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        token = google_http.bearer_token(_authorization(scope))
        fault = self.state.faults.take(method, path, token, malformed=False)
        if fault is None:
            await self.app(scope, receive, logged_send)
        elif fault.after_handling:
            await self._after_handling(fault, scope, receive, logged_send, raw_send=send)
        else:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                await drop_connection(receive, send)
            elif fault.status is None:
                await self.app(scope, receive, logged_send)
            else:
                await fault_response(fault, path)(scope, receive, logged_send)

    async def _after_handling(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send, *, raw_send: Send
    ) -> None:
        """Do the real work, then stall and/or fail or drop the connection: the provider
        recorded the change but the client never learns of it."""
        held: list[dict[str, Any]] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            await drop_connection(receive, raw_send)
            return
        if fault.status is not None:
            await fault_response(fault, scope["path"])(scope, receive, send)
            return
        for message in held:
            await send(message)
