"""Which locations a Google grant can see: Account Management, then Business Information."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from google.oauth2.credentials import Credentials

from connectors.base import Limiter
from connectors.google.client import discovery_client
from connectors.records import LocationRecord
from core.settings import get_settings

READ_MASK = "name,title,storeCode,metadata"


class GoogleLocations:
    def __init__(self, creds: Credentials, *, limiter: Limiter | None = None) -> None:
        settings = get_settings()
        self.accounts_api, self.client = discovery_client(
            "mybusinessaccountmanagement",
            creds,
            settings.google_account_management_url,
            limiter=limiter,
        )
        # Both services' requests go through the one client (its transport executes any).
        self.info_api, _ = discovery_client(
            "mybusinessbusinessinformation", creds, settings.google_business_information_url
        )
        # The first account's ``accountName``, once a listing has seen it (the person's own).
        self.first_account_name: str | None = None

    def list(self) -> Iterator[LocationRecord]:
        accounts = self.accounts_api.accounts()
        for account in self._all(accounts, accounts.list(pageSize=20), "accounts"):
            self._note_name(account)
            locations = self.info_api.accounts().locations()
            request = locations.list(parent=account["name"], readMask=READ_MASK, pageSize=100)
            for location in self._all(locations, request, "locations"):
                yield _location(account["name"], location)

    def account_name(self) -> str | None:
        """The first account's name: the person's own account comes first (PROVIDERS.md §C)."""
        body = self.client.send(self.accounts_api.accounts().list(pageSize=1))
        for account in body.get("accounts") or []:
            self._note_name(account)
            break
        return self.first_account_name

    def _note_name(self, account: dict[str, Any]) -> None:
        name = account.get("accountName")
        if self.first_account_name is None and isinstance(name, str) and name:
            self.first_account_name = name

    def _all(self, resource: Any, request: Any, key: str) -> Iterator[dict[str, Any]]:
        while request is not None:
            body = self.client.send(request)
            yield from body.get(key) or []
            request = resource.list_next(request, body)


def _location(account_name: str, location: dict[str, Any]) -> LocationRecord:
    # Business Information names a location "locations/{id}"; v4 wants the account in front.
    location_id = location["name"].rsplit("/", 1)[-1]
    metadata = location.get("metadata") or {}
    return LocationRecord(
        external_id=f"{account_name}/locations/{location_id}",
        name=location.get("title") or location["name"],
        store_code=location.get("storeCode"),
        new_review_uri=metadata.get("newReviewUri"),
        maps_uri=metadata.get("mapsUri"),
    )
