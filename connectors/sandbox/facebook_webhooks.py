"""Meta's side of page webhooks: events shaped as PROVIDERS.md §E shows them, signed with the
app secret over the exact bytes sent (``X-Hub-Signature-256``, and the legacy SHA-1 header),
non-ASCII escaped as ``\\uXXXX`` as Meta does."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from connectors.sandbox.facebook_state import Comment, FacebookState, Post, Rating


def envelope(page_id: str, changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [{"id": page_id, "time": int(time.time()), "changes": changes}],
    }


def comment_change(comment: Comment, post_id: str, verb: str = "add") -> dict[str, Any]:
    return {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": verb,
            "comment_id": comment.id,
            "post_id": post_id,
            "parent_id": comment.parent_id,
            "from": dict(comment.author),
            "message": comment.message,
            "created_time": comment.created,
        },
    }


def rating_change(rating: Rating, verb: str = "add") -> dict[str, Any]:
    value: dict[str, Any] = {
        "item": "rating",
        "verb": verb,
        "open_graph_story_id": rating.story_id,
        "reviewer_id": rating.reviewer["id"],
        "reviewer_name": rating.reviewer["name"],
        "recommendation_type": rating.recommendation_type,
        "created_time": rating.created,
    }
    if rating.review_text:
        value["review_text"] = rating.review_text
    if rating.rating is not None:
        value["rating"] = rating.rating
    return {"field": "ratings", "value": value}


def mention_change(post: Post, verb: str = "add") -> dict[str, Any]:
    return {
        "field": "mention",
        "value": {
            "item": "post",
            "verb": verb,
            "post_id": post.id,
            "sender_id": post.author["id"],
            "sender_name": post.author["name"],
            "message": post.message,
            "created_time": post.created,
        },
    }


def comment_mention_change(comment: Comment, post_id: str, verb: str = "add") -> dict[str, Any]:
    """A mention in a comment; the sender is left out, as Meta may (PROVIDERS.md §E)."""
    return {
        "field": "mention",
        "value": {
            "item": "comment",
            "verb": verb,
            "post_id": post_id,
            "comment_id": comment.id,
            "message": comment.message,
            "created_time": comment.created,
        },
    }


def signed(payload: dict[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload, separators=(",", ":")).encode()  # ensure_ascii, as Meta
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": "sha256="
        + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
    }
    return body, headers


async def deliver(fb: FacebookState, payload: dict[str, Any], url: str | None = None) -> int | None:
    """POST one signed delivery to the subscribed URL; the status, or None if none is set."""
    target = url or fb.webhook_url
    if not target:
        return None
    body, headers = signed(payload, fb.app_secret)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            status = (await client.post(target, content=body, headers=headers)).status_code
    except httpx.HTTPError:
        status = 0
    with fb.lock:
        fb.deliveries.append({"url": target, "status": status, "at": time.time()})
    return status
