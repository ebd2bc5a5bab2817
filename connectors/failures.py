"""What to do about a failed provider call: the actions, and the part of every provider's error
table that is the same for all (network errors, and the rule that a write is never retried
blind). Each provider's own table (``connectors/<provider>/errors.py``) classifies its answers
and its client library's token-refresh failures; workers never look at status codes.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions

from connectors import errors


class Action(enum.Enum):
    RETRY = "retry"  # with backoff
    RATE_LIMITED = "rate_limited"  # wait what the provider asked, then retry
    REFRESH_THEN_RETRY = "refresh_then_retry"  # the access token was refused: renew it once
    NEEDS_REAUTH = "needs_reauth"  # the grant is gone; a person reconnects
    MISSING_PERMISSION = "missing_permission"
    RETIRED = "retired"  # the provider no longer offers the capability
    SKIP = "skip"  # the object is gone: skip this item, the rest carries on
    FAIL = "fail"
    # A write that may or may not have been applied: never repeated in place.
    OUTCOME_UNKNOWN = "outcome_unknown"


RAISES: dict[Action, type[errors.ProviderError]] = {
    Action.RETRY: errors.Transient,
    Action.RATE_LIMITED: errors.RateLimited,
    # Raised only when no renewal can help (done once already, or no token to renew).
    Action.REFRESH_THEN_RETRY: errors.NeedsReauth,
    Action.NEEDS_REAUTH: errors.NeedsReauth,
    Action.MISSING_PERMISSION: errors.MissingPermission,
    Action.RETIRED: errors.CapabilityRetired,
    Action.SKIP: errors.NotFound,
    Action.FAIL: errors.Rejected,
    Action.OUTCOME_UNKNOWN: errors.OutcomeUnknown,
}


@dataclass(frozen=True)
class Failure:
    """A provider's answer that was not a success, before classification."""

    status: int
    body: dict[str, Any]
    retry_after: float | None = None


class ProviderFailure(Exception):
    """What a transport raises for an error answer: the answer, to be classified."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(f"provider answered {failure.status}")
        self.failure = failure


def never_sent(exc: BaseException) -> bool:
    """True when the request cannot have reached the provider: no connection was made."""
    if isinstance(exc, requests.ConnectTimeout | ConnectionRefusedError):
        return True
    if isinstance(exc, requests.ConnectionError):
        # requests wraps urllib3's MaxRetryError, whose ``reason`` is the real cause; a refused
        # connection or a failed name lookup is a NewConnectionError (a reset is not).
        cause = exc.args[0] if exc.args else None
        cause = getattr(cause, "reason", cause)
        return isinstance(cause, urllib3.exceptions.NewConnectionError)
    return False


class ErrorTable(ABC):
    """One provider's failures, classified once."""

    @abstractmethod
    def classify(self, failure: Failure) -> tuple[Action, str]:
        """The action for an error answer, and a message safe to store (no tokens, no
        personal data)."""

    def classify_error(self, exc: BaseException) -> tuple[Action, str] | None:
        """The action for what a transport raised instead of answering (a network error, a
        token refresh that failed); None: not a provider failure (a bug, raised as it is)."""
        if isinstance(exc, requests.RequestException):
            return Action.RETRY, f"network error: {type(exc).__name__}"
        return None

    def decide(self, exc: BaseException, *, write: bool) -> tuple[Action, str, float | None] | None:
        """What to do about one failed attempt: the action, the message, the wait asked; None
        when ``exc`` is not a provider failure (a bug, for the caller to raise as it is).

        A read is retried after any transient failure. A write is retried only when the
        provider cannot have applied it: a refusal (429, a throttling code, a refused token),
        or a connection never made. A 5xx or a connection lost after sending leaves its outcome
        unknown.
        """
        if isinstance(exc, ProviderFailure):
            action, message = self.classify(exc.failure)
            if write and action is Action.RETRY:
                return Action.OUTCOME_UNKNOWN, message, None
            return action, message, exc.failure.retry_after
        found = self.classify_error(exc)
        if found is None:
            return None
        action, message = found
        if write and action is Action.RETRY and not self.never_sent(exc):
            return Action.OUTCOME_UNKNOWN, message, None
        return action, message, None

    def never_sent(self, exc: BaseException) -> bool:
        """Whether the request cannot have reached the provider (a table adds its library's
        failures that happen before sending, such as a token refresh)."""
        return never_sent(exc)
