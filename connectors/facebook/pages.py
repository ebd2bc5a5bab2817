"""The pages a person manages (``/me/accounts``): plaudit's locations, each with its token."""

from __future__ import annotations

from collections.abc import Iterator

from connectors.facebook.graph import GraphClient, edge
from connectors.records import LocationRecord

FIELDS = "id,name,access_token,category,tasks"


def list_pages(client: GraphClient) -> Iterator[LocationRecord]:
    params = {"fields": FIELDS, "limit": 100}
    for body in edge(client, "me/accounts", params):
        for page in body.get("data") or []:
            if not isinstance(page, dict) or not page.get("id") or not page.get("access_token"):
                continue  # a page without a token cannot be read; the person lacks a task on it
            page_id = str(page["id"])
            yield LocationRecord(
                external_id=page_id,
                name=str(page.get("name") or page_id),
                new_review_uri=f"https://www.facebook.com/{page_id}/reviews",
                access_token=page["access_token"],
            )
