"""The admin API for the Facebook side, under ``/_admin/facebook``: what people do on Facebook
(comment, recommend, tag), error modes, tokens, and the webhook subscription.

What a person does is delivered to the subscribed webhook URL at once, signed like Meta.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.admin import error_response, json_body
from connectors.sandbox.facebook_state import Comment, FacebookState
from connectors.sandbox.facebook_webhooks import (
    comment_change,
    comment_mention_change,
    deliver,
    envelope,
    mention_change,
    rating_change,
)

# What PATCH /settings changes besides the rate limits; ``story_comments_empty`` makes every
# recommendation's story list its comments as ``[]`` (PROVIDERS.md §G.5).
_SETTINGS = ("webhook_url", "ratings_retired_from", "oldest_version", "story_comments_empty")
# The rate-limit settings (see `facebook_usage.UsageBudget`).
USAGE_SETTINGS = (
    "app_usage", "page_usage", "app_budget", "page_budget", "window_seconds", "page_refusal_code",
)  # fmt: skip


def _post_id(fb: FacebookState, comment: Comment) -> str:
    parent: Any = fb.objects.get(comment.parent_id)
    while isinstance(parent, Comment):
        parent = fb.objects.get(parent.parent_id)
    return getattr(parent, "id", None) or getattr(parent, "story_id", "")


def routes(fb: FacebookState) -> list[BaseRoute]:
    async def summary(request: Request) -> Response:
        return JSONResponse(fb.summary())

    async def comments(request: Request) -> Response:
        body = await json_body(request)
        author = body.get("from") or {"id": "100000000000777", "name": "Casey Commenter"}
        try:
            comment = fb.add_comment(body["parent_id"], body.get("message") or "Hello!", author)
        except KeyError:
            return error_response(404, "unknown parent_id")
        page_id = _post_id(fb, comment).split("_")[0]
        status = await deliver(
            fb, envelope(page_id, [comment_change(comment, _post_id(fb, comment))])
        )
        return JSONResponse({"id": comment.id, "delivered": status}, 201)

    async def ratings(request: Request) -> Response:
        body = await json_body(request)
        reviewer = body.get("reviewer") or {"id": "100000000000888", "name": "Rita Recommender"}
        try:
            rating = fb.add_rating(
                body["page_id"],
                reviewer,
                body.get("recommendation_type", "positive") == "positive",
                body.get("review_text"),
                rating=body.get("rating"),
            )
        except KeyError:
            return error_response(404, "unknown page_id")
        status = await deliver(fb, envelope(body["page_id"], [rating_change(rating)]))
        return JSONResponse({"id": rating.story_id, "delivered": status}, 201)

    async def mentions(request: Request) -> Response:
        body = await json_body(request)
        author = body.get("from") or {"id": "100000000000999", "name": "Tess Tagger"}
        message = body.get("message") or "Look!"
        try:
            if body.get("in") == "comment":  # on someone's own post, which the page cannot list
                post, comment = fb.add_comment_mention(body["page_id"], message, author)
                change = comment_mention_change(comment, post.id)
            else:
                post = fb.add_tagged(body["page_id"], message, author)
                change = mention_change(post)
        except KeyError:
            return error_response(404, "unknown page_id")
        status = await deliver(fb, envelope(body["page_id"], [change]))
        mentioned = comment.id if body.get("in") == "comment" else post.id
        return JSONResponse({"id": mentioned, "post_id": post.id, "delivered": status}, 201)

    async def replies(request: Request) -> Response:
        return JSONResponse({"replies": fb.page_replies()})

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            with fb.lock:
                fb.faults.clear()
            return JSONResponse({})
        try:
            fb.add_fault(await json_body(request))
        except (KeyError, ValueError, TypeError) as exc:
            return error_response(400, f"bad fault: {exc}")
        return JSONResponse({}, 201)

    async def settings(request: Request) -> Response:
        body = await json_body(request)
        usage = {k: body.pop(k) for k in USAGE_SETTINGS if k in body}
        with fb.lock:
            try:
                if usage:  # a new budget starts a new count
                    fb.usage.configure(**usage)
            except (TypeError, ValueError) as exc:
                return error_response(400, f"bad usage setting: {exc}")
            for key in _SETTINGS:
                if key in body:
                    setattr(fb, key, body[key])
            return JSONResponse(
                {**{key: getattr(fb, key) for key in _SETTINGS}, **fb.usage.describe()}
            )

    async def expire(request: Request) -> Response:
        return JSONResponse({"expired": fb.expire_tokens()})

    async def revoke_permission(request: Request) -> Response:
        body = await json_body(request)
        fb.revoke_permission(str(body.get("permission")))
        return JSONResponse({})

    async def tokens(request: Request) -> Response:
        token = fb.mint_user_token()
        return JSONResponse({"access_token": token.token}, 201)

    async def webhooks(request: Request) -> Response:
        body = await json_body(request)
        status = await deliver(fb, body["payload"], body.get("url"))
        return JSONResponse({"delivered": status})

    async def deliveries(request: Request) -> Response:
        with fb.lock:
            return JSONResponse({"deliveries": list(fb.deliveries)})

    return [
        Route("/summary", summary, methods=["GET"]),
        Route("/comments", comments, methods=["POST"]),
        Route("/ratings", ratings, methods=["POST"]),
        Route("/mentions", mentions, methods=["POST"]),
        Route("/replies", replies, methods=["GET"]),
        Route("/faults", faults, methods=["POST", "DELETE"]),
        Route("/settings", settings, methods=["GET", "PATCH"]),
        Route("/expire-tokens", expire, methods=["POST"]),
        Route("/revoke-permission", revoke_permission, methods=["POST"]),
        Route("/tokens", tokens, methods=["POST"]),
        Route("/webhooks", webhooks, methods=["POST"]),
        Route("/deliveries", deliveries, methods=["GET"]),
    ]
