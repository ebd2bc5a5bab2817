"""The page's own answers, read from hand-built Graph bodies: a recommendation's story comments,
a mention's comments, and what an empty or cut-short block can and cannot tell."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.facebook.ratings import FIELDS as RATING_FIELDS
from connectors.facebook.ratings import FacebookRatings
from connectors.facebook.records import page_answer
from connectors.facebook.tagged import FIELDS as TAGGED_FIELDS
from connectors.facebook.tagged import FacebookTagged
from connectors.records import MalformedRecord

PAGE = "500"


def comment(cid: str, author: str, message: str, hour: int) -> dict:
    return {
        "id": cid,
        "message": message,
        "created_time": f"2024-05-01T{hour:02d}:00:00+0000",
        "from": {"id": author},
    }


def block(*comments: dict, more: bool = False) -> dict:
    paging: dict = {"cursors": {"before": "MA", "after": "MQ"}}
    if more:
        paging["next"] = "https://graph.facebook.com/v21.0/1_2/comments?after=MQ"
    return {"data": list(comments), "paging": paging}


def rating(story: dict) -> dict:
    return {
        "created_time": "2024-05-01T09:00:00+0000",
        "open_graph_story": story,
        "recommendation_type": "positive",
        "review_text": "Lovely",
        "reviewer": {"id": "9", "name": "Ann"},
    }


def ratings_stream() -> FacebookRatings:
    stream = FacebookRatings(client=None)
    stream.location = PAGE
    return stream


def test_the_listing_asks_for_the_newest_comments_nested_one_request_a_page():
    assert "open_graph_story{id,comments." in RATING_FIELDS
    assert "reverse_chronological" in RATING_FIELDS and "from{id}" in RATING_FIELDS
    assert ",comments." in TAGGED_FIELDS


def test_a_recommendation_the_page_answered_carries_the_answer_as_its_reply():
    story = {
        "id": "500_7",
        "comments": block(
            comment("7_1", "u1", "Agreed!", 10),
            comment("7_2", PAGE, "Thank you, Ann!", 11),
            comment("7_3", PAGE, "See you soon", 12),
        ),
    }
    item = ratings_stream().parse(rating(story))
    assert (item.reply_text, item.reply_external_id, item.reply_known) == (
        "See you soon",
        "7_3",
        True,
    )
    assert item.reply_updated_at == datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_a_recommendation_with_only_other_peoples_comments_is_known_unanswered():
    story = {"id": "500_7", "comments": block(comment("7_1", "u1", "Agreed!", 10))}
    item = ratings_stream().parse(rating(story))
    assert (item.reply_text, item.reply_external_id, item.reply_known) == (None, None, True)


@pytest.mark.parametrize(
    "comments",
    [
        None,  # Graph leaves an empty edge out of a field expansion
        {"data": []},  # or lists it empty although the page answered (PROVIDERS.md §G.5)
        block(comment("7_1", "u1", "Agreed!", 10), more=True),  # the answer may be further on
    ],
    ids=["absent", "empty", "cut-short"],
)
def test_a_block_that_cannot_tell_leaves_the_stored_answer_alone(comments):
    story = {"id": "500_7", **({"comments": comments} if comments is not None else {})}
    item = ratings_stream().parse(rating(story))
    assert item.reply_text is None and item.reply_known is False


def test_a_page_answer_without_text_still_counts_as_an_answer():
    sticker = {"id": "7_9", "created_time": "2024-05-01T10:00:00+0000", "from": {"id": PAGE}}
    answer, known = page_answer(block(sticker), PAGE)
    assert answer is not None and answer.text == "" and answer.id == "7_9" and known


def test_a_mention_takes_the_pages_latest_comment_on_the_post():
    stream = FacebookTagged(client=None)
    stream.location = PAGE
    item = stream.parse(
        {
            "id": "42_1",
            "message": "Great time at @Cafe!",
            "created_time": "2024-05-01T08:00:00+0000",
            "from": {"id": "42", "name": "Tess"},
            "comments": block(comment("1_5", PAGE, "Glad you came!", 9)),
        }
    )
    assert (item.kind, item.reply_text, item.reply_external_id) == (
        "mention",
        "Glad you came!",
        "1_5",
    )


def test_malformed_answer_blocks_skip_the_record():
    with pytest.raises(MalformedRecord):
        page_answer({"data": "nope"}, PAGE)
    with pytest.raises(MalformedRecord):
        page_answer(block({"from": {"id": PAGE}, "created_time": "2024-05-01T10:00:00+0000"}), PAGE)
    with pytest.raises(MalformedRecord):
        ratings_stream().parse(rating({"id": "500_7", "comments": "x"}))
