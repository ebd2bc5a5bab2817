"""What one connection can do at its provider, for the length of one job.

Workers hold a ``ProviderAccount`` and never look at provider details: which locations the grant
sees, a stream per capability and location, a replier per item kind, and the tokens to save back
when the provider rotated or refreshed them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from connectors.base import ProviderClient, Stream
from connectors.records import LocationRecord
from core.settings import get_settings


@dataclass(frozen=True)
class Tokens:
    access_token: str | None
    refresh_token: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class TokenSet:
    """What a finished OAuth exchange yields, whichever the provider."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scopes: list[str]


@dataclass(frozen=True)
class LocationRef:
    """A location as a connector needs it: its provider id and, where the provider has them,
    its own token (Facebook page tokens)."""

    external_id: str
    access_token: str | None = None


@dataclass(frozen=True)
class PostedReply:
    text: str
    updated_at: datetime | None
    # The provider's moderation of it (connectors.records.ReplyState), where it reports one:
    # a write it accepted may still be pending, or rejected with ``policy_violation``.
    state: str | None = None
    policy_violation: str | None = None


@dataclass
class WriteMarker:
    """What the outbox keeps to recognise its own earlier write whose answer was lost.

    ``started_at``: when the first attempt not yet confirmed began. ``reply_id``: the provider's
    id of our reply where it has one (a Facebook comment); a replier sets it as soon as it knows
    which object it creates or changes, and the outbox saves it whatever the outcome.
    """

    started_at: datetime | None = None
    reply_id: str | None = None


class Replier(ABC):
    """Our reply to one kind of item.

    A write is never repeated blind: when an earlier attempt's outcome is unknown, the outbox
    calls ``find`` (or ``gone``, for a delete) first and writes only if the provider shows
    nothing of it.
    """

    @abstractmethod
    def find(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply | None:
        """Our reply if the provider already has it reading ``text``, else None."""

    @abstractmethod
    def gone(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> bool:
        """True when the reply a delete was meant for is no longer there."""

    @abstractmethod
    def post(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply:
        """Add a reply (where the provider keeps one reply per item, create or replace it)."""

    def edit(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply:
        """Change the text of the reply the item shows (``marker.reply_id`` where the provider
        has ids). With one reply per item, posting replaces it."""
        return self.post(location, item_external_id, text, marker)

    @abstractmethod
    def delete(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> None:
        """Remove our reply; nothing happens when there is none."""


class ProviderAccount(ABC):
    """Built as ``Account(tokens, limiter=…)``: the limiter is shared by every worker process.

    ``capabilities`` are the provider's declared streams; the scheduler syncs each available
    one, and what they declare (``connectors.capability``) decides repliers and enable flags.
    """

    provider: ClassVar[str]
    capabilities: ClassVar[tuple[type[Stream], ...]]
    # capability name -> stream class, derived from ``capabilities``.
    streams: ClassVar[dict[str, type[Stream]]]
    # item kind -> the capability that yields it (a kind belongs to one capability).
    by_kind: ClassVar[dict[str, type[Stream]]]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "capabilities" in cls.__dict__:
            cls.streams = {stream.name: stream for stream in cls.capabilities}
            cls.by_kind = {stream.kind: stream for stream in cls.capabilities}
            assert len(cls.by_kind) == len(cls.capabilities), "one capability per item kind"

    # The day capabilities that end on a known date are judged by (None: today, UTC); a job
    # may set its own, so that tests can stand on either side of such a date.
    today: date | None = None

    def current_day(self) -> date:
        return self.today or datetime.now(UTC).date()

    @classmethod
    def retired(cls, capability: str, *, today: date) -> str | None:
        """Why the provider no longer offers ``capability`` on ``today``, known without asking
        it (a documented end date), or None."""
        return None

    def account_label(self, *, fetch: bool = True) -> str | None:
        """What the provider calls the connected account (a person's or business's name), or
        None when unknown. ``fetch=False``: only what this job has learnt already, no call."""
        return None

    @abstractmethod
    def locations(self) -> Iterator[LocationRecord]: ...

    @classmethod
    def enabled(cls, capability: str) -> bool:
        """False when plaudit's settings turn a capability off for every connection."""
        stream = cls.streams.get(capability)
        if stream is None:
            return False
        return stream.enabled_by is None or bool(getattr(get_settings(), stream.enabled_by))

    def subscribe(self, location: LocationRef) -> bool:
        """Ask the provider to push this location's changes; True if it will."""
        return False

    @abstractmethod
    def stream(self, capability: str, location: LocationRef) -> Stream: ...

    def replier(self, kind: str) -> Replier | None:
        """None when items of this kind cannot be replied to."""
        stream = self.by_kind.get(kind)
        if stream is None or stream.answering is None:
            return None
        replier: Replier = stream.answering.replier(self.reply_context(stream))
        return replier

    @abstractmethod
    def reply_context(self, capability: type[Stream]) -> Any:
        """What this provider's repliers are built with (``Answering.replier``)."""

    @abstractmethod
    def tokens(self) -> Tokens:
        """The tokens as they are now (refreshed in place by the client library)."""

    @property
    @abstractmethod
    def clients(self) -> list[ProviderClient]: ...

    @property
    def requests_made(self) -> int:
        return sum(client.requests_made for client in self.clients)

    @property
    def rate_limit_waits(self) -> int:
        return sum(client.rate_limit_waits for client in self.clients)
