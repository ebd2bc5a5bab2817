"""Google's failures, classified once: status and google.rpc reason → what to do, and what
google-auth and googleapiclient raise instead of answering (a refresh refused or failed, a
network error under httplib2)."""

from __future__ import annotations

from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError

from connectors.failures import Action, ErrorTable, Failure

# Reasons Google puts in error.details[].reason or error.errors[].reason.
_RATE_REASONS = {
    "RATE_LIMIT_EXCEEDED",
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "quotaExceeded",
}
_RETIRED_REASONS = {"SERVICE_DISABLED", "API_DISABLED"}

_BY_STATUS: dict[int, Action] = {
    400: Action.FAIL,
    401: Action.REFRESH_THEN_RETRY,  # a second 401 after the renewal needs a person
    403: Action.MISSING_PERMISSION,
    404: Action.SKIP,
    409: Action.FAIL,
    410: Action.RETIRED,
    429: Action.RATE_LIMITED,
    500: Action.RETRY,
    502: Action.RETRY,
    503: Action.RETRY,
    504: Action.RETRY,
}


def _without_access(error: dict[str, Any]) -> str | None:
    """The service whose quota is 0, if Google named one: "If `quota_limit_value` is "0", the
    project has not been granted GBP API access" (PROVIDERS.md §0, §G.3). That 429 is no rate
    limit: waiting never ends it, only Google granting the project access does."""
    for entry in error.get("details") or []:
        metadata = entry.get("metadata") if isinstance(entry, dict) else None
        if isinstance(metadata, dict) and str(metadata.get("quota_limit_value")) == "0":
            service = metadata.get("service")
            return service if isinstance(service, str) and service else "the Business Profile APIs"
    return None


def _reasons(error: dict[str, Any]) -> set[str]:
    found = set()
    for entry in list(error.get("details") or []) + list(error.get("errors") or []):
        if isinstance(entry, dict) and isinstance(entry.get("reason"), str):
            found.add(entry["reason"])
    return found


class GoogleErrors(ErrorTable):
    def classify_error(self, exc: BaseException) -> tuple[Action, str] | None:
        if isinstance(exc, RefreshError) and not exc.retryable:
            return Action.NEEDS_REAUTH, "Google refused the refresh token (revoked or expired)"
        if isinstance(exc, RefreshError | TransportError):
            return Action.RETRY, f"token refresh failed: {type(exc).__name__}"
        if isinstance(exc, httplib2.HttpLib2Error | OSError):
            return Action.RETRY, f"network error: {type(exc).__name__}"  # googleapiclient's
        return super().classify_error(exc)

    def never_sent(self, exc: BaseException) -> bool:
        # A refresh happens before the request it is for; a failed name lookup sends nothing.
        unsent = RefreshError | TransportError | httplib2.ServerNotFoundError
        return isinstance(exc, unsent) or super().never_sent(exc)

    def classify(self, failure: Failure) -> tuple[Action, str]:
        error = failure.body.get("error") if isinstance(failure.body, dict) else None
        error = error if isinstance(error, dict) else {}
        status_text = str(error.get("status") or "")
        message = f"Google {failure.status} {status_text}".strip()
        if isinstance(error.get("message"), str):
            message += f": {error['message'][:300]}"
        service = _without_access(error)
        if service is not None:
            return Action.MISSING_PERMISSION, (
                f"Google has not granted plaudit's Google Cloud project access to {service} "
                "(its quota is 0): the deployment's operator must apply for Business Profile API "
                "access, which a quota increase request does not give"
            )
        reasons = _reasons(error)
        if reasons & _RATE_REASONS or status_text == "RESOURCE_EXHAUSTED":
            return Action.RATE_LIMITED, message
        if failure.status == 403 and reasons & _RETIRED_REASONS:
            return Action.RETIRED, message
        return _BY_STATUS.get(
            failure.status, Action.RETRY if failure.status >= 500 else Action.FAIL
        ), message
