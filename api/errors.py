"""The one error shape every response uses, and the handlers that produce it.

``{"error": {"code": "...", "message": "...", "field": "..." | null}}`` — for the domain errors
services and dependencies raise (core.errors), FastAPI's validation errors, Starlette's routing
404/405 and anything unexpected. Messages are written here or where the error is raised, never
copied from another exception, so they cannot carry a token, a password or an e-mail address.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import DomainError

log = logging.getLogger(__name__)

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    503: "unavailable",
}
_LOCATION_ROOTS = {"body", "query", "path", "header", "cookie"}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


def error_response(
    status_code: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message, field=field))
    return JSONResponse(body.model_dump(), status_code=status_code, headers=headers)


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    # The one place a refusal becomes HTTP: the status is the error class's.
    assert isinstance(exc, DomainError)
    return error_response(exc.status, exc.code, exc.message, field=exc.field, headers=exc.headers)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODES_BY_STATUS.get(exc.status_code, f"http_{exc.status_code}")
    # Starlette's own details ("Not Found", "Method Not Allowed") are fixed strings.
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ").capitalize()
    return error_response(exc.status_code, code, message, headers=exc.headers)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if not errors:
        return error_response(422, "invalid", "The request is invalid")
    first = errors[0]
    # pydantic's msg never includes the input; the input itself is deliberately left out.
    message = str(first.get("msg") or "Invalid value")
    if first.get("type") == "json_invalid":
        return error_response(422, "invalid", "The request body is not valid JSON")
    return error_response(422, "invalid", message, field=_field(first.get("loc", ())))


def _field(loc: tuple[int | str, ...] | list[int | str]) -> str | None:
    parts = list(loc)
    if parts and parts[0] in _LOCATION_ROOTS:
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or None


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    log.error("unhandled error (request_id=%s)", request_id, exc_info=exc)
    headers = {"X-Request-ID": request_id} if request_id else None
    return error_response(500, "internal", "Internal error", headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)


# Documented on every route so that the OpenAPI document shows the shape clients really get
# (instead of FastAPI's default HTTPValidationError for 422).
# The explicit JSON content keeps the shape documented on routes whose success is not JSON.
def documented_error(description: str) -> dict[str, object]:
    return {
        "model": ErrorResponse,
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: documented_error("Malformed request: an unparseable body"),
    422: documented_error("Invalid input; `field` names the culprit"),
}

CREDENTIAL_ERRORS: dict[str, dict[str, object]] = {
    "401": documented_error("Missing, invalid, expired or revoked credentials"),
    "403": documented_error("The role, location limit or kind of credential does not allow this"),
}


def document_credential_errors(app: FastAPI) -> None:
    """Every operation that asks for credentials may answer 401 and 403; say so in the document,
    derived from the operation's own security requirement so a new route cannot be missed."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema["paths"].values():
                for operation in operations.values():
                    if operation.get("security"):
                        responses = operation.setdefault("responses", {})
                        for status, documented in CREDENTIAL_ERRORS.items():
                            responses.setdefault(
                                status,
                                {
                                    "description": documented["description"],
                                    "content": documented["content"],
                                },
                            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
