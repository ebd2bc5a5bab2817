"""Google's OAuth 2.0 web-server flow: the consent page and the token endpoint (PROVIDERS.md §D).

Consent page: GET shows Allow / Deny forms that POST back to the same URL. For automation,
GET with `sandbox_decision=allow|deny` decides at once (a 302, as Google redirects).
"""

from __future__ import annotations

import base64
import html
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.google_http import json_response
from connectors.sandbox.oauth_grants import GrantError
from connectors.sandbox.state import SandboxState

NO_STORE = {"Cache-Control": "no-cache, no-store, max-age=0, must-revalidate", "Pragma": "no-cache"}


def parse_form(body: bytes) -> dict[str, str]:
    """URL-encoded form fields (the last value wins), without python-multipart."""
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))


def _error_page(error: str, description: str) -> HTMLResponse:
    page = (
        "<!doctype html><title>Error 400</title>"
        f"<h1>Error 400: {html.escape(error)}</h1><p>{html.escape(description)}</p>"
    )
    return HTMLResponse(page, 400)


def _consent_page(action: str, client_id: str, scopes: list[str]) -> HTMLResponse:
    items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
    action = html.escape(action, quote=True)
    page = (
        "<!doctype html><title>Sign in - Google Accounts (sandbox)</title>"
        f"<h1>{html.escape(client_id)} wants to access your Google Account</h1>"
        f"<ul>{items}</ul>"
        f'<form method="post" action="{action}">'
        '<input type="hidden" name="decision" value="allow"><button id="allow">Allow</button>'
        "</form>"
        f'<form method="post" action="{action}">'
        '<input type="hidden" name="decision" value="deny"><button id="deny">Deny</button>'
        "</form>"
    )
    return HTMLResponse(page)


def _validate(state: SandboxState, q: dict[str, str]) -> tuple[str, str] | None:
    client = state.grants.client(q.get("client_id"))
    if client is None:
        return "invalid_client", "The OAuth client was not found."
    redirect_uri = q.get("redirect_uri")
    if not redirect_uri:
        return "invalid_request", "Missing required parameter: redirect_uri"
    if client.redirect_uris is not None and redirect_uri not in client.redirect_uris:
        return "redirect_uri_mismatch", f"redirect_uri {redirect_uri} is not registered"
    if urlsplit(redirect_uri).scheme not in ("http", "https"):
        return "invalid_request", "Invalid parameter value for redirect_uri"
    if q.get("response_type") != "code":
        return "unsupported_response_type", "response_type must be 'code'"
    if not q.get("scope", "").split():
        return "invalid_request", "Missing required parameter: scope"
    method = q.get("code_challenge_method")
    if q.get("code_challenge") and method not in (None, "S256", "plain"):
        return "invalid_request", "Invalid code_challenge_method"
    if method and not q.get("code_challenge"):
        return "invalid_request", "Missing required parameter: code_challenge"
    return None


def authorization_routes(state: SandboxState) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        q = dict(request.query_params)
        problem = _validate(state, q)
        if problem is not None:
            return _error_page(*problem)
        if request.method == "POST":
            decision = parse_form(await request.body()).get("decision")
            status = 303
        else:
            decision = q.get("sandbox_decision")
            status = 302
            if decision is None:
                action = f"{request.url.path}?{request.url.query}"
                return _consent_page(action, q["client_id"], q["scope"].split())
        callback: dict[str, str] = {}
        if decision == "allow":
            scopes = q["scope"].split()
            code = state.grants.issue_code(
                client_id=q["client_id"],
                redirect_uri=q["redirect_uri"],
                scopes=scopes,
                code_challenge=q.get("code_challenge") or None,
                code_challenge_method=q.get("code_challenge_method")
                or ("plain" if q.get("code_challenge") else None),
                offline=q.get("access_type") == "offline",
                prompt=q.get("prompt", ""),
            )
            callback["code"] = code
            if "state" in q:
                callback["state"] = q["state"]
            callback["scope"] = " ".join(scopes)
        elif decision == "deny":
            callback["error"] = "access_denied"
            if "state" in q:
                callback["state"] = q["state"]
        else:
            return _error_page("invalid_request", "decision must be 'allow' or 'deny'")
        return RedirectResponse(_with_query(q["redirect_uri"], callback), status)

    return [
        Route("/o/oauth2/v2/auth", authorize, methods=["GET", "POST"]),
        Route("/o/oauth2/auth", authorize, methods=["GET", "POST"]),
    ]


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    """From the form, or from HTTP Basic auth as RFC 6749 §2.3.1 also allows."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
            return unquote_plus(user), unquote_plus(password)
        except ValueError:
            return None, None
    return form.get("client_id"), form.get("client_secret")


def token_routes(state: SandboxState) -> list[BaseRoute]:
    async def token(request: Request) -> Response:
        form = parse_form(await request.body())
        grant_type = form.get("grant_type", "")
        try:
            if grant_type not in ("authorization_code", "refresh_token"):
                raise GrantError(400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}")
            client = state.grants.authenticate(*_client_credentials(request, form))
            if grant_type == "authorization_code":
                body = state.grants.exchange_code(
                    client, form.get("code"), form.get("redirect_uri"), form.get("code_verifier")
                )
            else:
                body = state.grants.refresh(client, form.get("refresh_token"))
        except GrantError as exc:
            return json_response(exc.body(), exc.status, NO_STORE)
        return json_response(body, 200, NO_STORE)

    async def revoke(request: Request) -> Response:
        token = request.query_params.get("token") or parse_form(await request.body()).get("token")
        if not token or not state.grants.revoke_token(token):
            body = {"error": "invalid_token", "error_description": "Token expired or revoked"}
            return json_response(body, 400)
        return json_response({})

    return [
        Route("/token", token, methods=["POST"]),
        Route("/revoke", revoke, methods=["POST"]),
    ]
