"""Text PostgreSQL cannot store is refused before any route sees it.

A NUL character (JSON ``\\u0000``) or a lone surrogate is valid JSON but cannot be a PostgreSQL
text value: reaching the database it is a DataError, a 500. Typed fields refuse it already
(``SafeText``); this guard covers every string of every JSON body and query string, whatever
its schema, and answers like a validation error: 422 naming the field.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

MAX_BODY = 10 * 1024 * 1024  # a larger JSON body is not checked here (the routes bound theirs)


def _problem(value: str) -> str | None:
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _first_bad(value: Any, path: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """(field path, problem) of the first unstorable string in a parsed JSON document."""
    if isinstance(value, str):
        problem = _problem(value)
        return (".".join(path), problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_bad(key, path) if _problem(key) else _first_bad(item, (*path, key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if found := _first_bad(item, (*path, str(index))):
                return found
    return None


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if problem := _problem(scope.get("path", "")):
            await error_response(422, "invalid", f"the path {problem}")(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True):
            if problem := _problem(name) or _problem(value):
                field = None if _problem(name) else name
                await error_response(422, "invalid", problem, field=field)(scope, receive, send)
                return
        headers = dict(scope.get("headers") or [])
        if b"json" not in headers.get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if size <= MAX_BODY and b"\\u" in body:
            try:
                found = _first_bad(json.loads(body))
            except ValueError:
                found = None  # not JSON: the route's own validation answers
            if found:
                field, problem = found
                await error_response(422, "invalid", problem, field=field or None)(
                    scope, receive, send
                )
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
