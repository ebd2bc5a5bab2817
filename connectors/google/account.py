"""A Google connection: its locations, and a client per API for its capabilities."""

from __future__ import annotations

from collections.abc import Iterator

from connectors.account import LocationRef, ProviderAccount, Tokens
from connectors.base import Limiter, ProviderClient, Stream
from connectors.google.client import (
    GoogleTokens,
    authorized_client,
    credentials,
    current_tokens,
    v4_client,
)
from connectors.google.locations import GoogleLocations
from connectors.google.notifications import NotificationSettings
from connectors.google.qanda import GoogleQuestions, QandaErrors
from connectors.google.reviews import GoogleReviews
from connectors.records import LocationRecord
from core.settings import get_settings


class GoogleAccount(ProviderAccount):
    provider = "google"
    capabilities = (GoogleReviews, GoogleQuestions)

    def __init__(self, tokens: Tokens, *, limiter: Limiter | None = None) -> None:
        self.creds = credentials(
            GoogleTokens(tokens.access_token, tokens.refresh_token, tokens.expires_at)
        )
        self.v4 = v4_client(self.creds, limiter=limiter)
        self.qanda = authorized_client(
            self.creds, get_settings().google_qanda_url, error_table=QandaErrors(), limiter=limiter
        )
        self.limiter = limiter
        self._locations: GoogleLocations | None = None
        self._notified: dict[str, bool] = {}

    def locations(self) -> Iterator[LocationRecord]:
        self._locations = GoogleLocations(self.creds, limiter=self.limiter)
        return self._locations.list()

    def account_label(self, *, fetch: bool = True) -> str | None:
        """The first account's ``accountName``: free after listing the locations, else one
        Accounts API call."""
        if self._locations is not None and self._locations.first_account_name:
            return self._locations.first_account_name
        if not fetch:
            return None
        self._locations = self._locations or GoogleLocations(self.creds, limiter=self.limiter)
        return self._locations.account_name()

    def _client(self, capability: type[Stream]) -> ProviderClient:
        return self.qanda if capability is GoogleQuestions else self.v4

    def stream(self, capability: str, location: LocationRef) -> Stream:
        return self.streams[capability](self._client(self.streams[capability]))

    def reply_context(self, capability: type[Stream]) -> ProviderClient:
        return self._client(capability)

    def subscribe(self, location: LocationRef) -> bool:
        """Notifications are set per account: once for all of its locations."""
        topic = get_settings().google_pubsub_topic
        if not topic:
            return False
        account = location.external_id.split("/locations/", 1)[0]
        if account not in self._notified:
            settings = NotificationSettings(self.creds, limiter=self.limiter)
            self._notified[account] = settings.enable(account, topic)
        return self._notified[account]

    def tokens(self) -> Tokens:
        now = current_tokens(self.creds)
        return Tokens(now.access_token, now.refresh_token, now.expires_at)

    @property
    def clients(self) -> list[ProviderClient]:
        return [self.v4, self.qanda] + ([self._locations.client] if self._locations else [])
