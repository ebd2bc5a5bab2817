"""The one provider registry: each provider's account class and the capabilities it declares,
and every table derived from those declarations.

Every capability a provider offers is listed here whatever the settings. Whether this deployment
syncs one (``ProviderAccount.enabled``, from the capability's ``enabled_by``) is the workers'
decision: they make the provider calls, and they record it on each connection as the
capability's state, which the scheduler and the API read. Reading settings here would make
every process need the workers' settings.
"""

from __future__ import annotations

from connectors.account import ProviderAccount
from connectors.base import Stream
from connectors.capability import ReplyLimit
from connectors.facebook.account import FacebookAccount
from connectors.google.account import GoogleAccount

ACCOUNTS: dict[str, type[ProviderAccount]] = {
    account.provider: account for account in (GoogleAccount, FacebookAccount)
}

# provider -> its capabilities' names, in declaration order.
BY_PROVIDER: dict[str, list[str]] = {
    provider: list(account.streams) for provider, account in ACCOUNTS.items()
}

# (provider, capability name) -> the capability.
CAPABILITIES: dict[tuple[str, str], type[Stream]] = {
    (provider, stream.name): stream
    for provider, account in ACCOUNTS.items()
    for stream in account.capabilities
}

# Every item kind a provider yields, in declaration order (the API's kinds start with these).
KINDS: list[str] = [stream.kind for _, stream in CAPABILITIES.items()]

# (provider, item kind) -> the provider's limit for a reply, for the kinds that can be answered.
REPLY_LIMITS: dict[tuple[str, str], ReplyLimit] = {
    (provider, stream.kind): stream.answering.limit
    for (provider, _), stream in CAPABILITIES.items()
    if stream.answering is not None
}

# Where the owner's answers are comments of its own, any number of them; elsewhere an item has
# one reply at most, which a write creates or replaces.
SEVERAL_ANSWERS: frozenset[tuple[str, str]] = frozenset(
    (provider, stream.kind)
    for (provider, _), stream in CAPABILITIES.items()
    if stream.answering is not None and stream.answering.several
)
