"""Which capabilities each provider offers, and the account class that serves them."""

from __future__ import annotations

from connectors.account import ProviderAccount
from connectors.facebook.account import FacebookAccount
from connectors.google.account import GoogleAccount

ACCOUNTS: dict[str, type[ProviderAccount]] = {
    GoogleAccount.provider: GoogleAccount,
    FacebookAccount.provider: FacebookAccount,
}

# Every capability a provider offers, whatever the settings. Whether this deployment syncs one
# (``ProviderAccount.enabled``) is the workers' decision: they make the provider calls, and they
# record it on each connection as the capability's state, which the scheduler and the API read.
# Reading settings here would make every process need the workers' settings.
BY_PROVIDER: dict[str, list[str]] = {
    provider: list(account.streams) for provider, account in ACCOUNTS.items()
}
