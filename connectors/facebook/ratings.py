"""Page ratings, which Facebook calls recommendations since 2018 (``/{page}/ratings``).

Graph API v22 and later refuse this edge with error 12; the error table turns that into a
retired capability, so the connection stops asking and keeps syncing the rest.

The page answers a recommendation with a comment on its story (PROVIDERS.md §G.5). The story's
newest comments come nested in the listing (field expansion: one request per page of ratings,
not one per rating), and the page's latest is the recommendation's reply.
"""

from __future__ import annotations

from typing import Any

from connectors.base import Stream
from connectors.capability import Push
from connectors.facebook.push import Change, PageChange, text, written
from connectors.facebook.records import (
    ANSWER_FIELDS,
    graph_time,
    optional_text,
    person,
    with_answer,
)
from connectors.facebook.replies import PAGE_ANSWERS
from connectors.paging import CursorPaginator
from connectors.records import ItemRecord, MalformedRecord

FIELDS = (
    f"created_time,has_rating,has_review,open_graph_story{{id,{ANSWER_FIELDS}}},rating,"
    "recommendation_type,review_text,reviewer{id,name}"
)

# Stars are legacy (before August 2018); a recommendation only says yes or no, which the inbox
# keeps as the top or bottom of the same scale (its "recommended" filter reads it back).
RECOMMENDATION_STARS = {"positive": 5, "negative": 1}


class FacebookRatings(Stream):
    name = "facebook_ratings"
    kind = "recommendation"
    path_template = "{location}/ratings"
    query = {"fields": FIELDS, "limit": 100}
    paginator = CursorPaginator
    answering = PAGE_ANSWERS  # under the story: its id is the recommendation's external id
    push = Push(("ratings",), lambda page_id, verb, value: pushed(page_id, verb, value))

    def record_id(self, record: Any) -> str | None:
        # Replies go to the story, so the story is what identifies a recommendation.
        story = record.get("open_graph_story") if isinstance(record, dict) else None
        story_id = story.get("id") if isinstance(story, dict) else None
        return story_id if isinstance(story_id, str) and story_id else None

    def parse(self, record: dict[str, Any]) -> ItemRecord:
        if not isinstance(record, dict):
            raise MalformedRecord("rating is not an object")
        story_id = self.record_id(record)
        if story_id is None:
            raise MalformedRecord("rating has no open_graph_story id")
        rating = record.get("rating")
        if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
            raise MalformedRecord("rating is not 1 to 5")
        recommendation = record.get("recommendation_type")
        if recommendation not in (None, *RECOMMENDATION_STARS):
            raise MalformedRecord("unknown recommendation_type")
        reviewer_id, reviewer_name = person(record, "reviewer")
        created = graph_time(record.get("created_time"))
        item = ItemRecord(
            kind="recommendation",
            external_id=story_id,
            posted_at=created,
            provider_updated_at=created,
            author_name=reviewer_name,
            author_external_id=reviewer_id,
            rating=rating or RECOMMENDATION_STARS.get(recommendation),
            text=optional_text(record, "review_text"),
        )
        return with_answer(item, record["open_graph_story"].get("comments"), self.location)


def pushed(page_id: str, verb: str, value: dict[str, Any]) -> PageChange:
    story_id = value.get("open_graph_story_id")
    if not isinstance(story_id, str):
        return PageChange(page_id, Change.SYNC, FacebookRatings.name)

    def record() -> ItemRecord:
        rating = value.get("rating")
        return ItemRecord(
            kind="recommendation",
            external_id=story_id,
            posted_at=graph_time(value.get("created_time")),
            author_name=text(value, "reviewer_name"),
            author_external_id=str(value["reviewer_id"]) if value.get("reviewer_id") else None,
            rating=rating
            if isinstance(rating, int) and 1 <= rating <= 5
            else RECOMMENDATION_STARS.get(value.get("recommendation_type")),
            text=text(value, "review_text"),
        )

    return written(page_id, FacebookRatings.name, verb, story_id, record)
