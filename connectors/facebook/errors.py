"""Facebook's failures, classified once: Graph API error codes → what to do (PROVIDERS.md §E).

Facebook answers errors with HTTP 400 (sometimes 403 or 500) whatever went wrong, so the table
branches on ``error.code``; the status only decides for bodies without one.
"""

from __future__ import annotations

from typing import Any

from connectors.failures import Action, ErrorTable, Failure

_BY_CODE: dict[int, Action] = {
    1: Action.RETRY,  # unknown error, "please retry"
    2: Action.RETRY,  # service temporarily unavailable
    4: Action.RATE_LIMITED,  # application request limit
    17: Action.RATE_LIMITED,  # user request limit
    32: Action.RATE_LIMITED,  # page request limit
    613: Action.RATE_LIMITED,  # calls to this API exceeded the rate limit
    80001: Action.RATE_LIMITED,  # Pages business-use-case limit
    # Invalid or expired token, whatever the subcode (458–467): long-lived tokens are not
    # refreshed, a person reconnects.
    190: Action.NEEDS_REAUTH,
    10: Action.MISSING_PERMISSION,
    12: Action.RETIRED,  # deprecated for this Graph API version (ratings since v22)
}
_PERMISSION_CODES = range(200, 300)
_UNKNOWN_OBJECT_SUBCODE = 33


def graph_error(body: dict[str, Any]) -> dict[str, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


class FacebookErrors(ErrorTable):
    """facebook-sdk sends with ``requests``: its network errors are the shared table's."""

    def classify(self, failure: Failure) -> tuple[Action, str]:
        error = graph_error(failure.body)
        code = error.get("code") if isinstance(error.get("code"), int) else None
        subcode = error.get("error_subcode")
        message = f"Facebook error {code}" + (f"/{subcode}" if subcode else "")
        if isinstance(error.get("message"), str):
            message += f": {error['message'][:300]}"
        if code is None:
            action = Action.RETRY if failure.status >= 500 else Action.FAIL
        elif code in _BY_CODE:
            action = _BY_CODE[code]
        elif code in _PERMISSION_CODES:
            action = Action.MISSING_PERMISSION
        elif code == 100 and subcode == _UNKNOWN_OBJECT_SUBCODE:
            action = Action.SKIP
        elif error.get("is_transient") is True:
            action = Action.RETRY
        else:
            action = Action.FAIL
        return action, message
