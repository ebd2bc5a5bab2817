"""My Business v4 reviews: list, get, reply upsert/delete and batchGetReviews (§A).

pageSize above 50 is clamped to 50 rather than rejected: the docs give 50 as the maximum
(an older discovery document said 200), and clamping is the behaviour clients can rely on
either way.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.google_http import (
    BadRequest,
    authorize,
    bearer_token,
    edits_exceeded,
    invalid_argument,
    json_response,
    not_found,
    page_size,
)
from connectors.sandbox.models import Location
from connectors.sandbox.page_tokens import InvalidPageToken
from connectors.sandbox.review_index import ORDERS
from connectors.sandbox.state import SandboxState, check_reply_comment

MAX_PAGE_SIZE = 50
MAX_BATCH_LOCATIONS = 50
BAD_PAGE_TOKEN = BadRequest("page_token", "Invalid page token")


def parse_order(raw: str | None) -> str:
    if raw is None or not raw.strip():
        return "updateTime desc"
    order = " ".join(raw.split()).replace("update_time", "updateTime")
    if order not in ORDERS:
        raise BadRequest("order_by", f"Unsupported order_by: {raw}")
    return order


def routes(state: SandboxState) -> list[BaseRoute]:
    async def list_reviews(request: Request) -> Response:
        access = authorize(state, request)
        if isinstance(access, Response):
            return access
        path = request.url.path
        p = request.path_params
        location = state.resolve_location(p["account"], p["location"])
        if location is None:
            return not_found(path)
        q = request.query_params
        token = bearer_token(request.headers.get("authorization"))

        def corrupt() -> Any:
            return state.faults.take(request.method, path, token, malformed=True)

        try:
            size = page_size(
                q.get("pageSize"), default=MAX_PAGE_SIZE, maximum=MAX_PAGE_SIZE, clamp=True
            )
            order = parse_order(q.get("orderBy"))
            body = state.review_page(location, order, q.get("pageToken"), size, corrupt)
        except BadRequest as exc:
            return invalid_argument(path, exc)
        except InvalidPageToken:
            return invalid_argument(path, BAD_PAGE_TOKEN)
        return json_response(body)

    async def get_review(request: Request) -> Response:
        access = authorize(state, request)
        if isinstance(access, Response):
            return access
        p = request.path_params
        review = state.resolve_review(p["account"], p["location"], p["review"])
        if review is None:
            return not_found(request.url.path)
        with state.lock:
            return json_response(review.to_json())

    async def reply(request: Request) -> Response:
        access = authorize(state, request)
        if isinstance(access, Response):
            return access
        path = request.url.path
        p = request.path_params
        review = state.resolve_review(p["account"], p["location"], p["review"])
        name = f"accounts/{p['account']}/locations/{p['location']}/reviews/{p['review']}"
        comment = None
        if request.method == "PUT":
            try:
                payload = json.loads(await request.body() or b"{}")
                comment = payload.get("comment") if isinstance(payload, dict) else None
                if review is not None:
                    check_reply_comment(comment)
            except (ValueError, UnicodeDecodeError) as exc:
                state.log_reply_call(
                    "PUT", name, comment if isinstance(comment, str) else None, 400
                )
                return invalid_argument(path, BadRequest("comment", str(exc)))
        if review is None:
            state.log_reply_call(request.method, name, comment, 404)
            return not_found(path)
        if state.take_edit(review.location) is not None:
            state.log_reply_call(request.method, name, comment, 429)
            return edits_exceeded(path, state.reply_edit_limit)
        try:
            if request.method == "PUT":
                body = state.put_reply(review, comment)
            else:
                state.delete_reply(review)
                body = {}
        except KeyError:  # deleted by the reviewer meanwhile
            state.log_reply_call(request.method, name, comment, 404)
            return not_found(path)
        state.log_reply_call(request.method, name, comment, 200)
        return json_response(body)

    async def batch_get_reviews(request: Request) -> Response:
        access = authorize(state, request)
        if isinstance(access, Response):
            return access
        path = request.url.path
        account_id = request.path_params["account"]
        try:
            payload = json.loads(await request.body() or b"{}")
            if not isinstance(payload, dict):
                raise BadRequest(None, "body must be a JSON object")
            names = payload.get("locationNames") or []
            if not names or len(names) > MAX_BATCH_LOCATIONS:
                raise BadRequest("location_names", f"Give 1 to {MAX_BATCH_LOCATIONS} locations")
            locations: list[Location] = []
            for name in names:
                location = state.location_by_name(str(name))
                if location is None or (account_id not in ("-", location.account.id)):
                    return not_found(path)
                locations.append(location)
            size = page_size(
                str(payload.get("pageSize", "")),
                default=MAX_PAGE_SIZE,
                maximum=MAX_PAGE_SIZE,
                clamp=True,
            )
            order = parse_order(payload.get("orderBy"))
            body = state.batch_review_page(locations, order, payload.get("pageToken"), size)
        except InvalidPageToken:
            return invalid_argument(path, BAD_PAGE_TOKEN)
        except ValueError as exc:
            return invalid_argument(path, BadRequest(None, str(exc)))
        except BadRequest as exc:
            return invalid_argument(path, exc)
        if payload.get("ignoreRatingOnlyReviews") and "locationReviews" in body:
            body["locationReviews"] = [
                item for item in body["locationReviews"] if "comment" in item["review"]
            ]
        return json_response(body)

    base = "/v4/accounts/{account}/locations"
    return [
        Route(base + ":batchGetReviews", batch_get_reviews, methods=["POST"]),
        Route(base + "/{location}/reviews", list_reviews, methods=["GET"]),
        Route(base + "/{location}/reviews/{review}", get_review, methods=["GET"]),
        Route(base + "/{location}/reviews/{review}/reply", reply, methods=["PUT", "DELETE"]),
    ]
