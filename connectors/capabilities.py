"""Which capabilities each provider offers, and the account class that serves them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from connectors.account import ProviderAccount
from connectors.facebook.account import FacebookAccount
from connectors.google.account import GoogleAccount

ACCOUNTS: dict[str, type[ProviderAccount]] = {
    GoogleAccount.provider: GoogleAccount,
    FacebookAccount.provider: FacebookAccount,
}


class _Enabled(Mapping[str, list[str]]):
    """Each provider's capabilities that settings leave on, read when asked (tests and the demo
    change settings at run time)."""

    def __getitem__(self, provider: str) -> list[str]:
        account = ACCOUNTS[provider]
        return [capability for capability in account.streams if account.enabled(capability)]

    def __iter__(self) -> Iterator[str]:
        return iter(ACCOUNTS)

    def __len__(self) -> int:
        return len(ACCOUNTS)


BY_PROVIDER: Mapping[str, list[str]] = _Enabled()
