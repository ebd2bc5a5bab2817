"""My Business Q&A v1 as last published (PROVIDERS.md §B), and its "discontinued" mode.

Google discontinued the API on 2025-11-03 and what it answers now is unconfirmed, so the mode
can play each plausible refusal: 403 SERVICE_DISABLED, 404 or 410.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.google_http import (
    BadRequest,
    authorize,
    google_error,
    invalid_argument,
    json_response,
    not_found,
    page_size,
    permission_denied,
)
from connectors.sandbox.google_qanda_state import MERCHANT, QUESTIONS, QandaState
from connectors.sandbox.page_tokens import InvalidPageToken

MAX_PAGE_SIZE = 10
DISCONTINUED_MODES = ("SERVICE_DISABLED", "404", "410")


def _refusal(qanda: QandaState, path: str) -> Response | None:
    mode = qanda.discontinued
    if mode is None:
        return None
    if mode == "SERVICE_DISABLED":
        return permission_denied(path, "SERVICE_DISABLED")
    return google_error(path, int(mode))


def routes(qanda: QandaState, state: Any) -> list[BaseRoute]:
    async def guard(request: Request) -> Response | None:
        refusal = _refusal(qanda, request.url.path)
        if refusal is not None:
            return refusal
        access = authorize(state, request)
        return access if isinstance(access, Response) else None

    async def list_questions(request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        path, location_id = request.url.path, request.path_params["location"]
        if location_id not in state.locations:
            return not_found(path)
        q = request.query_params
        scope = f"questions:{location_id}"
        try:
            size = page_size(q.get("pageSize"), default=10, maximum=MAX_PAGE_SIZE, clamp=True)
            answers = page_size(
                q.get("answersPerQuestion"), default=10, maximum=MAX_PAGE_SIZE, clamp=True
            )
            offset = qanda.codec.decode(scope, q["pageToken"])[0] if q.get("pageToken") else 0
        except BadRequest as exc:
            return invalid_argument(path, exc)
        except InvalidPageToken:
            return invalid_argument(path, BadRequest("page_token", "Invalid page token"))
        with qanda.lock:
            listed = qanda.questions.get(location_id, [])
            chunk = [x.resource(answers) for x in listed[offset : offset + size]]
            body: dict[str, Any] = {"totalSize": len(listed)} if listed else {}
            if chunk:
                body["questions"] = chunk
            if offset + size < len(listed):
                body["nextPageToken"] = qanda.codec.encode(scope, [offset + size])
        return json_response(body)

    async def answers(request: Request) -> Response:
        if (refused := await guard(request)) is not None:
            return refused
        p = request.path_params
        question = qanda.find(p["location"], p["question"])
        if question is None:
            return not_found(request.url.path)
        if request.method == "DELETE":
            qanda.delete_answer(question)
            return json_response({})
        if request.url.path.endswith(":upsert"):
            try:
                payload = json.loads(await request.body() or b"{}")
                text = (payload.get("answer") or {}).get("text")
                if not isinstance(text, str) or not text.strip() or len(text) > 4096:
                    raise ValueError("answer.text is required, at most 4096 characters")
            except (ValueError, AttributeError) as exc:
                return invalid_argument(request.url.path, BadRequest("answer.text", str(exc)))
            return json_response(qanda.answer(question, text, MERCHANT).resource())
        with qanda.lock:
            body = {"answers": [a.resource() for a in question.answers[:10]]}
            body["totalSize"] = len(question.answers)
        return json_response(body)

    base = "/v1/locations/{location}/questions"
    return [
        Route(base, list_questions, methods=["GET"]),
        Route(base + "/{question}/answers", answers, methods=["GET"]),
        Route(base + "/{question}/answers:upsert", answers, methods=["POST"]),
        Route(base + "/{question}/answers:delete", answers, methods=["DELETE"]),
    ]


def admin_routes(qanda: QandaState, state: Any) -> list[BaseRoute]:
    async def ask(request: Request) -> Response:
        body = json.loads(await request.body() or b"{}")
        location = state.location_by_name(str(body.get("location")))
        if location is None:
            return JSONResponse({"error": "unknown location"}, 404)
        author = {"displayName": body.get("author") or "Quinn", "type": "REGULAR_USER"}
        question = qanda.ask(location.id, body.get("text") or QUESTIONS[0], author)
        return JSONResponse(question.resource(10), 201)

    async def answers(request: Request) -> Response:
        return JSONResponse({"answers": qanda.merchant_answers()})

    async def settings(request: Request) -> Response:
        if request.method == "PATCH":
            body = json.loads(await request.body() or b"{}")
            mode = body.get("discontinued")
            if mode is not None and str(mode) not in DISCONTINUED_MODES:
                return JSONResponse({"error": f"discontinued: one of {DISCONTINUED_MODES}"}, 400)
            qanda.discontinued = None if mode is None else str(mode)
        return JSONResponse({"discontinued": qanda.discontinued})

    return [
        Route("/questions", ask, methods=["POST"]),
        Route("/answers", answers, methods=["GET"]),
        Route("/settings", settings, methods=["GET", "PATCH"]),
    ]
