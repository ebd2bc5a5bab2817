"""Google Q&A (``mybusinessqanda`` v1): questions with their answers, and the owner's answer.

Google discontinued this API on 2025-11-03 (PROVIDERS.md §B); what a call returns now is
unconfirmed, so a 403 SERVICE_DISABLED, a 404 or a 410 all mean the capability is retired.
Locations are ``locations/{l}`` here, without the account segment of v4.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.account import LocationRef, PostedReply, Replier, WriteMarker
from connectors.base import Action, Failure, ProviderClient, Stream
from connectors.capability import Answering, ReplyLimit
from connectors.google.errors import GoogleErrors
from connectors.paging import PageTokenPaginator
from connectors.records import ItemRecord, MalformedRecord, parse_timestamp

MERCHANT = "MERCHANT"


class QandaErrors(GoogleErrors):
    """Google's table, except that "not there" means the API is gone, not the question."""

    def classify(self, failure: Failure) -> tuple[Action, str]:
        action, message = super().classify(failure)
        if failure.status in (404, 410) or action is Action.RETIRED:
            return Action.RETIRED, message
        return action, message


def v1_location(location: str) -> str:
    """``accounts/{a}/locations/{l}`` (how plaudit names Google locations) → ``locations/{l}``."""
    return "locations/" + location.rsplit("/", 1)[-1]


class GoogleQuestions(Stream):
    name = "google_qanda"
    kind = "question"
    query = {"pageSize": 10, "answersPerQuestion": 10, "orderBy": "update_time desc"}
    records_key = "questions"
    paginator = PageTokenPaginator
    id_key = "name"
    # Answering a question is answers.upsert (one answer of the owner's per question).
    answering = Answering(ReplyLimit(4096, "characters"), lambda client: QandaAnswers(client))
    enabled_by = "qanda_enabled"  # behind a flag since Google discontinued the API (§B)

    def path(self, location: str) -> str:
        return f"v1/{v1_location(location)}/questions"

    def parse(self, record: dict[str, Any]) -> ItemRecord:
        name = self.record_id(record)
        if name is None:
            raise MalformedRecord("question has no name")
        text = record.get("text")
        if not isinstance(text, str):
            raise MalformedRecord("question has no text")
        author = record.get("author") or {}
        if not isinstance(author, dict):
            raise MalformedRecord("author is not an object")
        ours = _merchant_answer(record.get("topAnswers") or [])
        created = parse_timestamp(record.get("createTime"))
        return ItemRecord(
            kind="question",
            external_id=name,
            posted_at=created,
            provider_updated_at=parse_timestamp(record.get("updateTime", record.get("createTime"))),
            author_name=author.get("displayName"),
            author_photo_url=author.get("profilePhotoUri"),
            text=text,
            reply_text=ours.get("text") if ours else None,
            reply_updated_at=parse_timestamp(ours["updateTime"])
            if ours and ours.get("updateTime")
            else None,
        )


def _merchant_answer(answers: list[Any]) -> dict[str, Any] | None:
    for answer in answers:
        author = answer.get("author") if isinstance(answer, dict) else None
        if isinstance(author, dict) and author.get("type") == MERCHANT:
            return answer
    return None


class QandaAnswers(Replier):
    """The owner's answer: answers.upsert creates or replaces it (one per question)."""

    def __init__(self, client: ProviderClient) -> None:
        self.client = client

    def _ours(self, item_external_id: str) -> dict[str, Any] | None:
        body = self.client.request("GET", f"v1/{item_external_id}/answers", params={"pageSize": 10})
        return _merchant_answer(body.get("answers") or [])

    def find(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply | None:
        ours = self._ours(item_external_id)
        if ours is None or ours.get("text") != text:
            return None
        updated = ours.get("updateTime")
        return PostedReply(text, parse_timestamp(updated) if updated else datetime.now(UTC))

    def gone(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> bool:
        return self._ours(item_external_id) is None

    def post(
        self, location: LocationRef, item_external_id: str, text: str, marker: WriteMarker
    ) -> PostedReply:
        answer = self.client.request(
            "POST", f"v1/{item_external_id}/answers:upsert", json={"answer": {"text": text}}
        )
        updated = answer.get("updateTime")
        return PostedReply(
            answer.get("text", text), parse_timestamp(updated) if updated else datetime.now(UTC)
        )

    def delete(self, location: LocationRef, item_external_id: str, marker: WriteMarker) -> None:
        self.client.request("DELETE", f"v1/{item_external_id}/answers:delete")
