"""What can go wrong talking to a provider, as a small hierarchy the workers act on.

Each provider classifies its raw failures into these once, in its error table; workers never
look at status codes.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every classified provider failure. The message is safe to store and show."""


class Transient(ProviderError):
    """Worth retrying with backoff (5xx, timeouts, connection resets)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OutcomeUnknown(Transient):
    """A write whose answer was lost (a reset or timeout after it was sent, a 5xx): the provider
    may or may not have applied it. Never repeat it blind; read the provider's state back first."""


class RateLimited(Transient):
    """The provider asked us to slow down; wait ``retry_after`` seconds before the next call."""


class NeedsReauth(ProviderError):
    """The grant is gone (revoked, expired); nothing will work until a person reconnects."""


class MissingPermission(ProviderError):
    """The grant lacks a permission this capability needs."""


class CapabilityRetired(ProviderError):
    """The provider no longer offers this capability; stop asking for it."""


class NotFound(ProviderError):
    """The object is gone at the provider."""


class Rejected(ProviderError):
    """The provider refused the request as invalid; retrying will not help."""


class ConnectFailed(ProviderError):
    """The OAuth exchange failed."""
