"""My Business Account Management v1: accounts.list (PROVIDERS.md §C)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.google_http import (
    BadRequest,
    authorize,
    invalid_argument,
    json_response,
    page_size,
)
from connectors.sandbox.page_tokens import InvalidPageToken
from connectors.sandbox.state import SandboxState

ACCOUNT_TYPES = ("PERSONAL", "LOCATION_GROUP", "USER_GROUP", "ORGANIZATION")
_TYPE_FILTER = re.compile(r'^\s*type\s*=\s*"?([A-Z_]+)"?\s*$')


def _type_filter(raw: str | None) -> str | None:
    """Only `type=…` is supported by Google; other filters are ignored, as the brief allows."""
    match = _TYPE_FILTER.match(raw or "")
    if match is None:
        return None
    if match.group(1) not in ACCOUNT_TYPES:
        raise BadRequest("filter", f"Unknown account type {match.group(1)}")
    return match.group(1)


def routes(state: SandboxState) -> list[BaseRoute]:
    async def list_accounts(request: Request) -> Response:
        access = authorize(state, request)
        if isinstance(access, Response):
            return access
        q = request.query_params
        try:
            size = page_size(q.get("pageSize"), default=20, maximum=20, clamp=True)
            body = state.account_page(_type_filter(q.get("filter")), q.get("pageToken"), size)
        except BadRequest as exc:
            return invalid_argument(request.url.path, exc)
        except InvalidPageToken:
            return invalid_argument(
                request.url.path, BadRequest("page_token", "Invalid page token")
            )
        return json_response(body)

    return [Route("/v1/accounts", list_accounts, methods=["GET"])]
