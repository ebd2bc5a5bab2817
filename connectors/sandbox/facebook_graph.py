"""The Graph API (PROVIDERS.md §E): any ``/vN.M/`` prefix or none; the token in the query, a
form field or a Bearer header; cursor paging that leaves ``next`` out on the last page; errors
with ``fbtrace_id`` (HTTP 400); usage headers on every answer; and the login dialog.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.facebook_state import (
    LONG_LIVED_S,
    SHORT_LIVED_S,
    Comment,
    FacebookState,
    GraphError,
    GraphFault,
    Nested,
    Post,
    Rating,
    Token,
)
from connectors.sandbox.facebook_usage import PAGE_REFUSALS
from connectors.sandbox.google_http import bearer_token
from connectors.sandbox.models import dumps

JSON_TYPE = "application/json; charset=UTF-8"
_VERSION = re.compile(r"^v(\d+)\.(\d+)$")
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
READ_CONTENT = "pages_read_user_content"
MANAGE = "pages_manage_engagement"


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(body), status, headers=headers, media_type=JSON_TYPE)


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(str(offset).encode()).rstrip(b"=").decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise GraphError(100, "Invalid cursor", 1_504_000) from None


def paged(request: Request, params: dict[str, str], items: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        limit = min(MAX_LIMIT, max(1, int(params.get("limit") or DEFAULT_LIMIT)))
    except ValueError:
        raise GraphError(100, "(#100) The parameter limit must be an integer") from None
    start = _offset(params.get("after"))
    chunk = items[start : start + limit]
    body: dict[str, Any] = {"data": chunk}
    if items:
        cursors = {"before": _cursor(start), "after": _cursor(start + len(chunk))}
        body["paging"] = {"cursors": cursors}
        if start + limit < len(items):
            query = {k: v for k, v in params.items() if k != "access_token"}
            query["after"] = cursors["after"]
            body["paging"]["next"] = urlunsplit(
                urlsplit(str(request.url))._replace(query=urlencode(query))
            )
    return body


def _version(segments: list[str]) -> tuple[int, list[str]]:
    """The major version asked for (2, the first, without one) and the rest."""
    if segments and (match := _VERSION.match(segments[0])):
        return int(match[1]), segments[1:]
    return 2, segments


async def _params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    if request.method in ("POST", "DELETE"):
        raw = await request.body()
        if raw:
            if "json" in request.headers.get("content-type", ""):
                body = json.loads(raw)
                params.update({k: v for k, v in body.items() if isinstance(body, dict)})
            else:
                params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return params


def graph_routes(fb: FacebookState) -> list[BaseRoute]:
    async def graph(request: Request) -> Response:
        segments = [s for s in request.path_params["path"].split("/") if s]
        major, segments = _version(segments)
        major = max(major, fb.oldest_version)  # an ended version is served as the oldest one
        page_id: str | None = None
        try:
            params = await _params(request)
            if segments == ["oauth", "access_token"]:
                _fault(fb, request.method, segments)
                return _json(_access_token(fb, params))
            raw = params.get("access_token") or bearer_token(request.headers.get("authorization"))
            token = fb.valid(raw)
            page_id = token.page_id  # page tokens are counted against the page's usage
            fault = fb.take_fault(request.method, "/".join(segments))
            if fault is not None and not fault.after_handling:
                raise fault.error()
            _spend(fb, page_id)
            body = _dispatch(fb, request, params, token, major, segments)
            if fault is not None:  # carried out, and answered with an error all the same
                raise fault.error()
        except GraphError as exc:
            regain = exc.regain_minutes
            if regain is None and exc.code in PAGE_REFUSALS and page_id is not None:
                regain = 0  # a page refusal always reports the page at its limit
            return _json(exc.body(), exc.status, _usage(fb, page_id, regain))
        return _json(body, 200, _usage(fb, page_id, None))

    return [Route("/{path:path}", graph, methods=["GET", "POST", "DELETE"])]


def _fault(fb: FacebookState, method: str, segments: list[str]) -> None:
    fault: GraphFault | None = fb.take_fault(method, "/".join(segments))
    if fault is not None:
        raise fault.error()


def _spend(fb: FacebookState, page_id: str | None) -> None:
    with fb.lock:
        refusal = fb.usage.spend(page_id)
    if refusal is not None:
        code, minutes = refusal
        raise GraphError(code, regain_minutes=minutes if page_id is not None else None)


def _usage(fb: FacebookState, page_id: str | None, regain: float | None) -> dict[str, str]:
    with fb.lock:
        return fb.usage.headers(page_id, regain)


def _access_token(fb: FacebookState, params: dict[str, str]) -> dict[str, Any]:
    client_id, secret = params.get("client_id"), params.get("client_secret")
    if params.get("grant_type") == "fb_exchange_token":
        token = fb.extend(client_id or "", secret or "", params.get("fb_exchange_token") or "")
        lifetime = LONG_LIVED_S
    else:
        if not params.get("code"):
            raise GraphError(100, "Missing code parameter.")
        token = fb.exchange_code(
            client_id or "", secret or "", params.get("redirect_uri") or "", params["code"]
        )
        lifetime = SHORT_LIVED_S
    return {"access_token": token.token, "token_type": "bearer", "expires_in": lifetime}


def _need(token: Token, permission: str) -> None:
    if permission not in token.permissions:
        code = 283 if permission == READ_CONTENT else 200
        raise GraphError(code, f"(#{code}) Requires {permission} permission")


def _page(fb: FacebookState, page_id: str, token: Token) -> Any:
    page = fb.pages.get(page_id)
    if page is None:
        raise GraphError(
            100,
            f"(#100) Object with ID '{page_id}' does not exist",
            33,
            kind="GraphMethodException",
        )
    if token.kind == "page" and token.page_id != page_id:
        raise GraphError(190, "A page access token is required for this page", 467)
    return page


def _dispatch(
    fb: FacebookState,
    request: Request,
    params: dict[str, str],
    token: Token,
    major: int,
    segments: list[str],
) -> dict[str, Any]:
    method = request.method
    with fb.lock:
        if segments == ["me"]:
            if token.kind == "page":
                return fb.pages[token.page_id or ""].identity
            return {"id": "100000000000001", "name": "Sandbox Manager"}
        if segments == ["me", "permissions"]:
            data = [{"permission": p, "status": "granted"} for p in sorted(token.permissions)]
            return {"data": data}
        if segments == ["me", "accounts"]:
            _need(token, "pages_show_list")
            return paged(request, params, [p.account() for p in fb.pages.values()])
        if len(segments) == 2 and segments[1] in ("ratings", "feed", "posts", "tagged"):
            page = _page(fb, segments[0], token)
            _need(token, READ_CONTENT if segments[1] != "feed" else "pages_read_engagement")
            nested = Nested.parse(params.get("fields"))
            if segments[1] == "ratings":
                if major >= fb.ratings_retired_from:
                    raise GraphError(12)
                stories = None if fb.story_comments_empty else nested
                return paged(request, params, [r.resource(stories) for r in page.ratings])
            listed = page.tagged if segments[1] == "tagged" else page.posts
            return paged(request, params, [p.resource(nested) for p in listed])
        if len(segments) == 2 and segments[1] == "subscribed_apps" and method == "POST":
            page = _page(fb, segments[0], token)
            _need(token, "pages_manage_metadata")
            page.subscribed_fields = (params.get("subscribed_fields") or "").split(",")
            return {"success": True}
        if len(segments) == 2 and segments[1] == "comments":
            return _comments(fb, request, params, token, segments[0])
        if len(segments) == 1:
            return _object(fb, params, token, method, segments[0])
    raise GraphError(100, "(#100) Unknown path components", 2500)


def _comments(
    fb: FacebookState, request: Request, params: dict[str, str], token: Token, object_id: str
) -> dict[str, Any]:
    target = fb.objects.get(object_id)
    if target is None or (isinstance(target, Comment) and target.deleted):
        raise GraphError(100, f"(#100) Object with ID '{object_id}' does not exist", 33)
    if request.method == "POST":
        _need(token, MANAGE)
        message = params.get("message")
        if not message:
            raise GraphError(100, "(#100) Missing message or attachment")
        author = (
            fb.pages[token.page_id].identity
            if token.page_id
            else {"id": "100000000000001", "name": "Sandbox Manager"}
        )
        return {"id": fb.add_comment(object_id, message, author).id}
    _need(token, READ_CONTENT)
    if isinstance(target, Rating) and fb.story_comments_empty:
        return {"data": []}  # §G.5: what Graph can answer for a story that has comments
    comments = target.replies if isinstance(target, Comment) else target.comments
    live = [c for c in comments if not c.deleted]
    if params.get("filter") == "stream":
        live = [x for c in live for x in (c, *c.live_replies())]
    if params.get("order") == "reverse_chronological":
        live = sorted(live, key=lambda c: c.created, reverse=True)
    nested = "comments" in (params.get("fields") or "")
    return paged(request, params, [c.resource(nested) for c in live])


def _object(
    fb: FacebookState, params: dict[str, str], token: Token, method: str, object_id: str
) -> dict[str, Any]:
    target = fb.objects.get(object_id)
    if target is None or (isinstance(target, Comment) and target.deleted):
        raise GraphError(100, f"(#100) Object with ID '{object_id}' does not exist", 33)
    if method == "GET":
        nested = Nested.parse(params.get("fields"))
        resources: dict[type, Callable[[Any], dict[str, Any]]] = {
            Comment: lambda c: c.expanded(nested),
            Post: lambda p: p.resource(nested),
            Rating: lambda r: r.resource(),
        }
        return resources[type(target)](target)
    if not isinstance(target, Comment):
        raise GraphError(200, "(#200) Only comments can be edited or deleted here")
    _need(token, MANAGE)
    if target.author.get("id") != token.page_id:
        raise GraphError(200, "(#200) Only the author can edit or delete this comment")
    if method == "DELETE":
        target.deleted = True
    else:
        if not params.get("message"):
            raise GraphError(100, "(#100) Missing message")
        target.message = params["message"]
    return {"success": True}


def _dialog_page(path: str, q: dict[str, str]) -> HTMLResponse:
    """What a person sees: the permissions asked for, and Allow or Deny (links that decide as
    ``sandbox_decision`` does, so a browser can go through the dialog like a person)."""
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in (q.get("scope") or "").split(","))
    allow, deny = (
        html.escape(f"{path}?{urlencode({**q, 'sandbox_decision': d})}", quote=True)
        for d in ("allow", "deny")
    )
    page = (
        "<!doctype html><title>Log in with Facebook (sandbox)</title>"
        f"<h1>Sandbox app wants to manage your pages</h1><ul>{scopes}</ul>"
        f'<p><a id="allow" href="{allow}">Allow</a> <a id="deny" href="{deny}">Deny</a></p>'
    )
    return HTMLResponse(page)


def dialog_routes(fb: FacebookState) -> list[BaseRoute]:
    """The login dialog: ``sandbox_decision=allow|deny`` decides at once (a 302)."""

    async def dialog(request: Request) -> Response:
        q = dict(request.query_params)
        if q.get("client_id") != fb.app_id or not q.get("redirect_uri"):
            return HTMLResponse("<h1>Invalid App ID or redirect_uri</h1>", 400)
        decision = q.get("sandbox_decision")
        if decision is None:
            return _dialog_page(request.url.path, q)
        if decision == "allow":
            callback = {"code": fb.issue_code(q["redirect_uri"])}
        else:
            callback = {
                "error": "access_denied",
                "error_reason": "user_denied",
                "error_description": "Permissions error",
            }
        if "state" in q:
            callback["state"] = q["state"]
        parts = urlsplit(q["redirect_uri"])
        query = "&".join(x for x in (parts.query, urlencode(callback)) if x)
        return RedirectResponse(urlunsplit(parts._replace(query=query)), 302)

    return [Route("/{version}/dialog/oauth", dialog, methods=["GET"])]
