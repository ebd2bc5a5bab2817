"""The admin API under `/_admin`: tests and the demo drive the sandbox while it runs.

Plain JSON in and out; errors are `{"error": "..."}` with 400 or 404. Every route is a thin
wrapper over a SandboxState method of the same meaning.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.state import UNSET, SandboxState


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status)


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    payload = json.loads(raw)
    if not isinstance(payload, dict):
        raise ValueError("body must be a JSON object")
    return payload


def routes(state: SandboxState) -> list[BaseRoute]:
    async def locations(request: Request) -> Response:
        return JSONResponse({"locations": state.locations_summary()})

    async def create_review(request: Request) -> Response:
        try:
            body = await json_body(request)
            if not body.get("location"):
                return error_response(400, "location is required")
            review = state.create_review(
                body["location"],
                star_rating=body.get("starRating", "FIVE"),
                comment=body.get("comment"),
                reviewer=body.get("reviewer"),
            )
        except KeyError as exc:
            return error_response(404, f"unknown location {exc}")
        except ValueError as exc:
            return error_response(400, str(exc))
        return JSONResponse(review, 201)

    async def review(request: Request) -> Response:
        review_id = request.path_params["review_id"]
        if request.method == "GET":
            found = state.review(review_id)
            return JSONResponse(found) if found else error_response(404, "unknown review")
        if request.method == "DELETE":
            deleted = state.delete_review(review_id)
            return JSONResponse({}) if deleted else error_response(404, "unknown review")
        try:
            body = await json_body(request)
            reply: Any = UNSET
            if "reviewReply" in body:
                given = body["reviewReply"]
                reply = None if given is None else given.get("comment")
            edited = state.edit_review(
                review_id,
                comment=body.get("comment", UNSET),
                star_rating=body.get("starRating", UNSET),
                reply=reply,
            )
            if "reviewMediaItems" in body:
                edited = state.set_media(review_id, body["reviewMediaItems"] or [])
        except KeyError:
            return error_response(404, "unknown review")
        except (ValueError, AttributeError) as exc:
            return error_response(400, str(exc))
        return JSONResponse(edited)

    async def moderate(request: Request) -> Response:
        """Google's later verdict on a reply: {"state": "ACTIVE"|"REJECTED", "policyViolation"}."""
        try:
            body = await json_body(request)
            moderated = state.moderate_reply(
                request.path_params["review_id"],
                str(body.get("state", "")),
                body.get("policyViolation"),
            )
        except KeyError:
            return error_response(404, "unknown review, or it has no reply")
        except ValueError as exc:
            return error_response(400, str(exc))
        return JSONResponse(moderated)

    async def replies(request: Request) -> Response:
        if request.method == "DELETE":
            state.clear_replies()
            return JSONResponse({})
        return JSONResponse(state.replies())

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            state.clear_faults()
            return JSONResponse({})
        if request.method == "GET":
            return JSONResponse({"faults": state.faults.active()})
        try:
            fault_id = state.add_fault(await json_body(request))
        except (ValueError, TypeError) as exc:
            return error_response(400, str(exc))
        return JSONResponse({"id": fault_id}, 201)

    async def requests_(request: Request) -> Response:
        if request.method == "DELETE":
            state.reset_request_counts()
            return JSONResponse({})
        try:
            return JSONResponse(state.request_counts(request.query_params.get("path")))
        except re.error as exc:
            return error_response(400, f"path is not a valid regex: {exc}")

    async def recent_requests(request: Request) -> Response:
        limit = int(request.query_params.get("limit", "100"))
        return JSONResponse({"requests": state.traffic.recent(limit)})

    async def tokens(request: Request) -> Response:
        return JSONResponse(state.tokens())

    async def revoke(request: Request) -> Response:
        body = await json_body(request)
        return JSONResponse({"revoked": state.revoke(body.get("refresh_token"))})

    async def expire(request: Request) -> Response:
        return JSONResponse({"expired": state.expire_access_tokens()})

    async def mint(request: Request) -> Response:
        body = await json_body(request)
        try:
            minted = state.mint_tokens(body.get("client_id", "sandbox-client"), body.get("scopes"))
        except KeyError:
            return error_response(404, "unknown client")
        return JSONResponse(minted, 201)

    async def clients(request: Request) -> Response:
        body = await json_body(request)
        if not body.get("client_id") or not body.get("client_secret"):
            return error_response(400, "client_id and client_secret are required")
        state.add_client(body["client_id"], body["client_secret"], body.get("redirect_uris"))
        return JSONResponse({"client_id": body["client_id"]}, 201)

    async def settings(request: Request) -> Response:
        """Modes for behaviour PROVIDERS.md marks as uncertain."""
        if request.method == "PATCH":
            body = await json_body(request)
            if "refresh_token_on_first_consent_only" in body:
                flag = bool(body["refresh_token_on_first_consent_only"])
                state.grants.refresh_token_on_first_consent_only = flag
            if "v4_account_wildcard" in body:
                state.v4_account_wildcard = bool(body["v4_account_wildcard"])
            try:
                if "reply_moderation" in body:
                    state.set_reply_moderation(
                        str(body["reply_moderation"]), body.get("reply_violation")
                    )
                if "reply_edit_limit" in body:
                    state.reply_edit_limit = int(body["reply_edit_limit"])
                if "list_omits" in body:
                    state.list_omits = {str(r) for r in body["list_omits"] or ()}
                if "reply_edit_window_seconds" in body:
                    state.reply_edit_window_seconds = float(body["reply_edit_window_seconds"])
            except (ValueError, TypeError) as exc:
                return error_response(400, str(exc))
        return JSONResponse(
            {
                "refresh_token_on_first_consent_only": (
                    state.grants.refresh_token_on_first_consent_only
                ),
                "v4_account_wildcard": state.v4_account_wildcard,
                "reply_moderation": state.reply_moderation,
                "reply_violation": state.reply_violation,
                "reply_edit_limit": state.reply_edit_limit,
                "reply_edit_window_seconds": state.reply_edit_window_seconds,
                "list_omits": sorted(state.list_omits),
            }
        )

    return [
        Route("/locations", locations, methods=["GET"]),
        Route("/reviews", create_review, methods=["POST"]),
        Route("/reviews/{review_id}", review, methods=["GET", "PATCH", "DELETE"]),
        Route("/reviews/{review_id}/reply/moderation", moderate, methods=["POST"]),
        Route("/replies", replies, methods=["GET", "DELETE"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/requests", requests_, methods=["GET", "DELETE"]),
        Route("/requests/recent", recent_requests, methods=["GET"]),
        Route("/tokens", tokens, methods=["GET"]),
        Route("/google/revoke", revoke, methods=["POST"]),
        Route("/google/expire-access-tokens", expire, methods=["POST"]),
        Route("/google/tokens", mint, methods=["POST"]),
        Route("/google/clients", clients, methods=["POST"]),
        Route("/google/settings", settings, methods=["GET", "PATCH"]),
    ]
