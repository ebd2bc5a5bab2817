"""A Google connection: its locations, review stream and review replies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from connectors.account import (
    LocationRef,
    PostedReply,
    ProviderAccount,
    Replier,
    Tokens,
    WriteMarker,
)
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
from connectors.google.qanda import GoogleQuestions, QandaAnswers, QandaErrors
from connectors.google.reviews import GoogleReviews, policy_violation, reply_state
from connectors.records import LocationRecord, parse_timestamp
from core.settings import get_settings


class GoogleReviewReplies(Replier):
    """The owner's reply: one per review, so the review itself says whether a write took."""

    def __init__(self, reviews: GoogleReviews) -> None:
        self.reviews = reviews

    @staticmethod
    def _name(location: LocationRef, review_id: str) -> str:
        return f"{location.external_id}/reviews/{review_id}"

    def _reply(self, location: LocationRef, review_id: str) -> dict[str, Any]:
        review: dict[str, Any] = self.reviews.get(self._name(location, review_id))
        return review.get("reviewReply") or {}

    def find(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply | None:
        reply = self._reply(location, item_external_id)
        if reply.get("comment") != text:
            return None
        return _posted(reply, text)

    def gone(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> bool:
        return not self._reply(location, item_external_id)

    def post(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply:
        answer = self.reviews.put_reply(self._name(location, item_external_id), text)
        # A 200 is not "published": Google may still moderate it (PROVIDERS.md §G.1).
        return _posted(answer, text)

    def delete(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> None:
        self.reviews.delete_reply(self._name(location, item_external_id))


def _posted(reply: dict[str, Any], text: str) -> PostedReply:
    updated = reply.get("updateTime")
    return PostedReply(
        reply.get("comment", text),
        parse_timestamp(updated) if updated else None,
        state=reply_state(reply),
        policy_violation=policy_violation(reply),
    )


class GoogleAccount(ProviderAccount):
    provider = "google"
    streams: ClassVar[dict[str, type[Stream]]] = {
        GoogleReviews.name: GoogleReviews,
        GoogleQuestions.name: GoogleQuestions,
    }

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

    @classmethod
    def enabled(cls, capability: str) -> bool:
        if capability == GoogleQuestions.name:
            return get_settings().qanda_enabled
        return super().enabled(capability)

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

    def stream(self, capability: str, location: LocationRef) -> Stream:
        client = self.qanda if capability == GoogleQuestions.name else self.v4
        return self.streams[capability](client)

    def replier(self, kind: str) -> Replier | None:
        if kind == "question":
            return QandaAnswers(self.qanda)
        return GoogleReviewReplies(GoogleReviews(self.v4)) if kind == "review" else None

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
