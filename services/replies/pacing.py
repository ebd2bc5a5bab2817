"""Reply writes paced per Google location, across all workers (PROVIDERS.md §G.3: "10 edits a
minute per profile"; whether reply writes count is undocumented, so they are treated as edits).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from connectors.limits import Pacer
from core.settings import get_settings
from models import Item, Location
from services.sync.limits import shared_counter


def pacer_for(provider: str, item: Item, location: Location | None) -> Pacer | None:
    """The pacer of the item's location, or None where writes are not paced."""
    if provider != "google" or item.kind != "review" or location is None:
        return None
    settings = get_settings()
    # The host is part of the key so that stand-ins (a sandbox per test) count apart.
    host = urlsplit(settings.google_mybusiness_url).netloc
    return Pacer(
        shared_counter(),
        f"google-edits:{host}:{location.external_id}",
        settings.google_reply_writes_per_window,
        window_seconds=settings.google_reply_write_window_seconds,
    )
