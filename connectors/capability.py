"""What a capability declares besides its listing: how the owner answers its items, which
setting turns it on, and how the provider's pushes map to its records.

A capability is a ``Stream`` class (``connectors.base``) carrying these as class attributes;
``connectors.providers`` gathers them, and every registry (reply limits, enable flags, webhook
fields, item kinds) is derived from there, so a capability is declared in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReplyLimit:
    size: int
    unit: str  # "bytes" (of UTF-8) or "characters"

    def measure(self, text: str) -> int:
        return len(text.encode("utf-8")) if self.unit == "bytes" else len(text)


@dataclass(frozen=True)
class Answering:
    """How the owner answers an item: the provider's limit, and the replier that writes it.

    ``replier`` is called with what the provider's account hands its repliers (Google: the
    capability's client; Facebook: a page's client, per location). ``several``: the owner's
    answers are comments of its own, any number of them (Facebook); otherwise an item has one
    reply at most, which a write creates or replaces (Google).
    """

    limit: ReplyLimit
    replier: Callable[[Any], Any]
    several: bool = False


@dataclass(frozen=True)
class Push:
    """How the provider pushes this capability's changes.

    ``topics``: the webhook fields subscribed to (Facebook) or the notification types (Google).
    ``read``: one pushed change's value → a change of this capability, or None when it is not
    one of its own (Facebook: ``(page_id, verb, value)``); None: a push only asks for a sync.
    """

    topics: tuple[str, ...]
    read: Callable[..., Any] | None = None
