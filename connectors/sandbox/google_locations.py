"""Business Information v1: accounts.locations.list with its mandatory readMask (§C)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from connectors.sandbox.google_http import (
    BadRequest,
    authorize,
    invalid_argument,
    json_response,
    not_found,
    page_size,
)
from connectors.sandbox.models import Location
from connectors.sandbox.page_tokens import InvalidPageToken
from connectors.sandbox.state import SandboxState

LOCATION_FIELDS = frozenset(
    {
        "name", "languageCode", "storeCode", "title", "phoneNumbers", "categories",
        "storefrontAddress", "websiteUri", "regularHours", "specialHours", "serviceArea",
        "labels", "adWordsLocationExtensions", "latlng", "openInfo", "metadata", "profile",
        "relationshipData", "moreHours", "serviceItems",
    }
)  # fmt: skip
ORDERINGS = {"title": "title", "store_code": "storeCode", "storeCode": "storeCode"}


def _camel(path: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), path)


def parse_read_mask(raw: str | None) -> list[list[str]]:
    """Field paths as lists of camelCase segments; snake_case is accepted too."""
    if raw is None or not raw.strip():
        raise BadRequest("read_mask", "Field is required")
    paths = [[_camel(seg) for seg in p.strip().split(".")] for p in raw.split(",") if p.strip()]
    for path in paths:
        if path[0] not in LOCATION_FIELDS or not all(path):
            raise BadRequest("read_mask", "Invalid field mask provided")
    return paths


def apply_mask(resource: dict[str, Any], paths: list[list[str]]) -> dict[str, Any]:
    """Only the masked fields (and `name`, which identifies the location)."""
    out: dict[str, Any] = {"name": resource["name"]}
    for path in paths:
        source, target = resource, out
        for i, segment in enumerate(path):
            if not isinstance(source, dict) or segment not in source:
                break
            if i == len(path) - 1:
                target[segment] = source[segment]
            else:
                source = source[segment]
                target = target.setdefault(segment, {})
    return {k: v for k, v in out.items() if v != {}}


def _ordered(locations: list[Location], order_by: str | None) -> list[Location]:
    if not order_by:
        return locations
    field, _, direction = order_by.strip().partition(" ")
    if field not in ORDERINGS or direction.strip() not in ("", "desc", "asc"):
        raise BadRequest("order_by", f"Unsupported order_by: {order_by}")
    attr = "title" if ORDERINGS[field] == "title" else "store_code"
    return sorted(locations, key=lambda loc: getattr(loc, attr), reverse=direction == "desc")


def routes(state: SandboxState) -> list[BaseRoute]:
    async def list_locations(request: Request) -> Response:
        access = authorize(state, request)
        if isinstance(access, Response):
            return access
        path = request.url.path
        account_id = request.path_params["account"]
        q = request.query_params
        try:
            paths = parse_read_mask(q.get("readMask", q.get("read_mask")))
            size = page_size(q.get("pageSize"), default=10, maximum=100, clamp=False)
            locations = state.account_locations(account_id)
            if locations is None:
                return not_found(path)
            locations = _ordered(locations, q.get("orderBy"))
            scope = f"locations:{account_id}:{q.get('orderBy', '')}"
            token = q.get("pageToken")
            offset = state.page_tokens.decode(scope, token)[0] if token else 0
        except BadRequest as exc:
            return invalid_argument(path, exc)
        except InvalidPageToken:
            return invalid_argument(path, BadRequest("page_token", "Invalid page token"))
        chunk = locations[offset : offset + size]
        body: dict[str, Any] = {}
        if chunk:
            body["locations"] = [apply_mask(loc.resource(), paths) for loc in chunk]
        if offset + size < len(locations):
            body["nextPageToken"] = state.page_tokens.encode(scope, [offset + size])
        if q.get("filter"):
            # Filters are not evaluated; the total is only reported when one is given (§C).
            body["totalSize"] = len(locations)
        return json_response(body)

    return [Route("/v1/accounts/{account}/locations", list_locations, methods=["GET"])]
