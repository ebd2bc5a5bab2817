"""A Facebook connection: the pages it manages, their ratings, comments and tags, replies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from connectors import errors
from connectors.account import LocationRef, ProviderAccount, Tokens
from connectors.base import Limiter, Listing, ProviderClient, Stream
from connectors.facebook import versions
from connectors.facebook.comments import FacebookComments
from connectors.facebook.graph import GraphClient
from connectors.facebook.pages import list_pages
from connectors.facebook.ratings import FacebookRatings
from connectors.facebook.story_comments import FacebookStoryComments
from connectors.facebook.tagged import FacebookTagged
from connectors.records import LocationRecord


class FacebookAccount(ProviderAccount):
    provider = "facebook"
    capabilities = (FacebookRatings, FacebookComments, FacebookTagged, FacebookStoryComments)

    def __init__(self, tokens: Tokens, *, limiter: Limiter | None = None) -> None:
        self._tokens = tokens
        self.limiter = limiter
        self._clients: list[GraphClient] = []

    @classmethod
    def retired(cls, capability: str, *, today: date) -> str | None:
        return versions.retired_reason(version_bound(cls.streams[capability]), today)

    def _client(
        self,
        access_token: str | None,
        graph_version: str | None = None,
        page_id: str | None = None,
    ) -> GraphClient:
        client = GraphClient(
            access_token, limiter=self.limiter, graph_version=graph_version, page_id=page_id
        )
        self._clients.append(client)
        return client

    def _page_client(self, location: LocationRef, graph_version: str | None = None) -> GraphClient:
        # Page tokens are what page edges want (and what the business use-case limits count).
        if location.access_token:
            return self._client(location.access_token, graph_version, location.external_id)
        return self._client(self._tokens.access_token, graph_version)

    def locations(self) -> Iterator[LocationRecord]:
        return list_pages(self._client(self._tokens.access_token))

    def stream(self, capability: str, location: LocationRef) -> Stream:
        stream = self.streams[capability]
        bound = version_bound(stream)
        if versions.capability_ends_on(bound) is None:
            return stream(self._page_client(location))
        # Through the newest version still serving it, whatever the pin (recommendations: v22.0
        # and later answer error 12); none left: retired without a call.
        today = self.current_day()
        graph_version = versions.version_for(bound, today)
        if graph_version is None:
            raise errors.CapabilityRetired(versions.retired_reason(bound, today) or "")
        return stream(self._page_client(location, graph_version))

    def account_label(self, *, fetch: bool = True) -> str | None:
        """The person's name on Facebook (whose user token this is): one call, so only asked for
        when connecting or when a connection has no label yet."""
        if not fetch:
            return None
        me = self._client(self._tokens.access_token).request("GET", "me", params={"fields": "name"})
        name = me.get("name")
        return name if isinstance(name, str) and name else None

    def reply_context(self, capability: type[Stream]) -> Callable[[LocationRef], GraphClient]:
        return self._page_client

    def subscribe(self, location: LocationRef) -> bool:
        """Subscribes to the webhook fields the capabilities declare."""
        client = self._page_client(location)
        answer = client.request(
            "POST",
            f"{location.external_id}/subscribed_apps",
            json={"subscribed_fields": webhook_fields()},
        )
        return bool(answer.get("success"))

    def tokens(self) -> Tokens:
        # Long-lived user tokens are not refreshed; a person reconnects when one expires.
        return self._tokens

    @property
    def clients(self) -> list[ProviderClient]:
        return list(self._clients)


def version_bound(stream: type[Listing]) -> str:
    """The capability whose Graph versions serve this one: itself, or (for a child capability)
    the capability its parents are listed by (comments on recommendations' stories are read
    through the versions that still serve recommendations)."""
    parent = getattr(stream, "parent", None)
    if isinstance(parent, type) and issubclass(parent, Stream):
        return version_bound(parent)
    return getattr(stream, "name", "")


def webhook_fields() -> str:
    fields = [t for c in FacebookAccount.capabilities if c.push for t in c.push.topics]
    return ",".join(sorted(set(fields)))
