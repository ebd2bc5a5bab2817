"""What every Google API route shares: bearer-token checks, page sizes and the error shapes
of PROVIDERS.md §0, byte for byte where the document quotes a real sample."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from connectors.sandbox.models import AccessToken, dumps
from connectors.sandbox.oauth_grants import BUSINESS_SCOPES

if TYPE_CHECKING:  # the state imports modules that import this one
    from connectors.sandbox.state import SandboxState

JSON_TYPE = "application/json; charset=UTF-8"
UNAUTHENTICATED_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
WWW_AUTHENTICATE = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
PROJECT = "123"

_CANONICAL = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument.", "badRequest"),
    401: ("UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE, "unauthorized"),
    403: ("PERMISSION_DENIED", "The caller does not have permission", "forbidden"),
    404: ("NOT_FOUND", "Requested entity was not found.", "notFound"),
    # A discontinued API (Q&A) may answer this; Google documents no body for it.
    410: ("NOT_FOUND", "The requested API has been discontinued.", "gone"),
    429: ("RESOURCE_EXHAUSTED", "", "rateLimitExceeded"),
    500: ("INTERNAL", "Internal error encountered.", "backendError"),
    503: ("UNAVAILABLE", "The service is currently unavailable.", "backendError"),
}


class BadRequest(Exception):
    """An INVALID_ARGUMENT answer naming the offending field."""

    def __init__(self, field: str | None = None, description: str | None = None) -> None:
        super().__init__(description or "invalid argument")
        self.field = field
        self.description = description


def service_for(path: str) -> str:
    if path.startswith("/accountmanagement"):
        return "mybusinessaccountmanagement.googleapis.com"
    if path.startswith("/businessinformation"):
        return "mybusinessbusinessinformation.googleapis.com"
    if path.startswith("/qanda"):
        return "mybusinessqanda.googleapis.com"
    return "mybusiness.googleapis.com"


def json_response(
    body: bytes | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    content = body if isinstance(body, bytes) else dumps(body)
    return Response(content, status, headers=headers, media_type=JSON_TYPE)


def google_error(
    path: str,
    status: int,
    *,
    message: str | None = None,
    details: list[dict[str, Any]] | None = None,
    legacy_reason: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    status_name, default_message, default_reason = _CANONICAL[status]
    message = message or default_message
    error: dict[str, Any] = {"code": status, "message": message}
    # The legacy `errors[]` appears mainly on v4 and on 400s (§0); googleapiclient reads it
    # first when deciding whether a 403 is a retryable rate limit.
    if path.startswith("/mybusiness/") or status == 400 or legacy_reason:
        error["errors"] = [
            {"message": message, "domain": "global", "reason": legacy_reason or default_reason}
        ]
    error["status"] = status_name
    if details:
        error["details"] = details
    return json_response({"error": error}, status, headers)


def invalid_argument(path: str, exc: BadRequest) -> Response:
    details = None
    if exc.field:
        violation = {"field": exc.field, "description": exc.description or "Invalid value"}
        details = [
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [violation]}
        ]
    return google_error(path, 400, details=details)


def unauthenticated(path: str) -> Response:
    return google_error(path, 401, headers={"WWW-Authenticate": WWW_AUTHENTICATE})


def not_found(path: str) -> Response:
    return google_error(path, 404)


def insufficient_scope(path: str) -> Response:
    service = service_for(path)
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "domain": "googleapis.com",
        "metadata": {"service": service},
    }
    challenge = (
        'Bearer realm="https://accounts.google.com/", error="insufficient_scope", '
        'scope="https://www.googleapis.com/auth/business.manage"'
    )
    return google_error(
        path,
        403,
        message="Request had insufficient authentication scopes.",
        details=[info],
        headers={"WWW-Authenticate": challenge},
    )


def quota_exceeded(path: str, quota_limit_value: str = "300") -> Response:
    service = service_for(path)
    message = (
        "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of service "
        f"'{service}' for consumer 'project_number:{PROJECT}'."
    )
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {
                "service": service,
                "quota_metric": f"{service}/default_requests",
                "quota_limit": "DefaultRequestsPerMinutePerProject",
                "quota_limit_value": quota_limit_value,
                "quota_unit": "1/min/{project}",
                "quota_location": "global",
                "consumer": f"projects/{PROJECT}",
            },
        },
        {
            "@type": "type.googleapis.com/google.rpc.Help",
            "links": [
                {
                    "description": "Request a higher quota limit.",
                    "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                }
            ],
        },
    ]
    return google_error(path, 429, message=message, details=details)


def permission_denied(path: str, reason: str | None = None) -> Response:
    """Plain PERMISSION_DENIED, or the SERVICE_DISABLED / rate-limit flavours of a 403."""
    service = service_for(path)
    if reason == "SERVICE_DISABLED":
        message = (
            f"{service} has not been used in project {PROJECT} before or it is disabled. "
            f"Enable it by visiting https://console.developers.google.com/apis/api/{service}"
            f"/overview?project={PROJECT} then retry."
        )
        info = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "SERVICE_DISABLED",
            "domain": "googleapis.com",
            "metadata": {"service": service, "consumer": f"projects/{PROJECT}"},
        }
        return google_error(path, 403, message=message, details=[info])
    if reason == "RATE_LIMIT_EXCEEDED":
        return google_error(
            path, 403, message="Rate Limit Exceeded", legacy_reason="rateLimitExceeded"
        )
    return google_error(path, 403)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authorize(state: SandboxState, request: Request) -> AccessToken | Response:
    """The caller's access token, or the 401/403 Google would answer instead."""
    path = request.url.path
    access = state.grants.valid_access_token(bearer_token(request.headers.get("authorization")))
    if access is None:
        return unauthenticated(path)
    if BUSINESS_SCOPES.isdisjoint(access.scopes):
        return insufficient_scope(path)
    return access


def page_size(raw: str | None, *, default: int, maximum: int, clamp: bool) -> int:
    """proto3 cannot tell 0 from unset, so 0 means the default, as on Google."""
    if raw is None or raw == "":
        return default
    try:
        size = int(raw)
    except ValueError as exc:
        raise BadRequest("page_size", f"Invalid value: {raw!r}") from exc
    if size < 0:
        raise BadRequest("page_size", "Page size must not be negative")
    if size == 0:
        return default
    if size > maximum:
        if clamp:
            return maximum
        raise BadRequest("page_size", f"Page size must be between 1 and {maximum}")
    return size


def edits_exceeded(path: str, limit: int) -> Response:
    """The edits-per-profile limit (§G.3): its body is not published, so the §0 quota shape.
    No Retry-After: Google sends none with quota errors."""
    service = service_for(path)
    message = (
        "Quota exceeded for quota metric 'Edits' and limit 'Edits per minute per profile' of "
        f"service '{service}' for consumer 'project_number:{PROJECT}'."
    )
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {
                "service": service,
                "quota_metric": f"{service}/edits",
                "quota_limit": "EditsPerMinutePerProfile",
                "quota_limit_value": str(limit),
                "quota_unit": "1/min/{profile}",
                "quota_location": "global",
                "consumer": f"projects/{PROJECT}",
            },
        }
    ]
    return google_error(path, 429, message=message, details=details)
