"""People's comments on a recommendation's story (``GET /{open_graph_story-id}/comments``,
PROVIDERS.md §G.5): a child pass over the recommendations, read-only. The page's own comments
there are the recommendation's answers, read with it, so they are left out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.base import ChildStream
from connectors.facebook.ratings import FacebookRatings
from connectors.facebook.records import comment, graph_time
from connectors.paging import CursorPaginator
from connectors.records import ItemRecord


class Stories(FacebookRatings):  # the recommendations, with only what the pass needs
    query = {"fields": "created_time,open_graph_story{id}", "limit": 100}


class FacebookStoryComments(ChildStream):
    name = "facebook_story_comments"
    kind = "story_comment"
    parent = Stories  # a story's only time is its rating's: older ones wait for the full pass
    child_path_template = "{parent}/comments"
    child_query = {"fields": "id,message,created_time,from{id,name}", "filter": "toplevel"}
    paginator = CursorPaginator

    def parent_updated(self, record: dict[str, Any]) -> datetime:
        return graph_time(record.get("created_time"))

    def parse_all(self, record: dict[str, Any]) -> list[ItemRecord]:
        item = self.parse(record)
        return [] if item.author_external_id == self.location else [item]

    def parse(self, record: dict[str, Any]) -> ItemRecord:
        return comment(record, self.kind)
