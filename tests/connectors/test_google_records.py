"""Normalising Google review JSON (field names as in PROVIDERS.md §A) into item records."""

from datetime import UTC, datetime

import pytest

from connectors.base import Action, Failure
from connectors.google.errors import GoogleErrors
from connectors.google.reviews import GoogleReviews, split_translation
from connectors.records import MalformedRecord, parse_timestamp

parse = GoogleReviews(client=None).parse  # type: ignore[arg-type]


def review(**overrides):
    body = {
        "name": "accounts/1/locations/2/reviews/r1",
        "reviewId": "r1",
        "reviewer": {"displayName": "Ann", "profilePhotoUrl": "https://p/1", "isAnonymous": False},
        "starRating": "FOUR",
        "comment": "Lovely bread",
        "createTime": "2026-01-02T03:04:05Z",
        "updateTime": "2026-01-03T03:04:05.123456789Z",
    }
    body.update(overrides)
    return body


def test_a_full_review_is_normalised():
    item = parse(review(reviewReply={"comment": "Thanks!", "updateTime": "2026-01-04T00:00:00Z"}))
    assert item.external_id == "r1"
    assert item.kind == "review"
    assert item.rating == 4
    assert item.author_name == "Ann"
    assert item.text == "Lovely bread"
    assert item.posted_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert item.provider_updated_at == datetime(2026, 1, 3, 3, 4, 5, 123456, tzinfo=UTC)
    assert item.reply_text == "Thanks!"


def test_rating_only_anonymous_review_has_no_text_and_no_name():
    item = parse(review(comment=None, reviewer={"isAnonymous": True}, starRating="ONE"))
    assert item.text is None
    assert item.author_name is None
    assert item.author_anonymous is True
    assert item.rating == 1


@pytest.mark.parametrize(
    "comment,translation,original",
    [
        ("(Translated by Google) Very good\n\n(Original)\nSehr gut", "Very good", "Sehr gut"),
        ("(Original)\nSehr gut\n\n(Translated by Google)\nVery good", "Very good", "Sehr gut"),
        ("Plain text", "Plain text", None),
    ],
)
def test_translated_comments_keep_both_texts(comment, translation, original):
    assert split_translation(comment) == (translation, original)


@pytest.mark.parametrize(
    "overrides",
    [
        {"reviewId": None},
        {"starRating": "SEVEN"},
        {"createTime": "yesterday"},
        {"createTime": None},
        {"reviewer": "Ann"},
        {"comment": 42},
    ],
)
def test_malformed_reviews_are_refused_with_a_reason(overrides):
    with pytest.raises(MalformedRecord):
        parse(review(**overrides))


@pytest.mark.parametrize("digits", ["", ".1", ".123", ".123456", ".123456789"])
def test_timestamps_with_0_to_9_fraction_digits(digits):
    assert parse_timestamp(f"2014-10-02T15:01:23{digits}Z").year == 2014


def _quota_refusal(limit: str) -> dict:
    info = {"reason": "RATE_LIMIT_EXCEEDED", "metadata": {"quota_limit_value": limit}}
    return {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "details": [info]}}


@pytest.mark.parametrize(
    "status,body,action",
    [
        (429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}, Action.RATE_LIMITED),
        # A quota of 0 is no access granted (PROVIDERS.md §0), not a window to wait out.
        (429, _quota_refusal("0"), Action.MISSING_PERMISSION),
        (429, _quota_refusal("300"), Action.RATE_LIMITED),
        (
            403,
            {"error": {"code": 403, "details": [{"reason": "RATE_LIMIT_EXCEEDED"}]}},
            Action.RATE_LIMITED,
        ),
        (
            403,
            {"error": {"code": 403, "details": [{"reason": "SERVICE_DISABLED"}]}},
            Action.RETIRED,
        ),
        (403, {"error": {"code": 403, "status": "PERMISSION_DENIED"}}, Action.MISSING_PERMISSION),
        (401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}, Action.REFRESH_THEN_RETRY),
        (404, {"error": {"code": 404, "status": "NOT_FOUND"}}, Action.SKIP),
        (500, {}, Action.RETRY),
        (503, {"error": {"status": "UNAVAILABLE"}}, Action.RETRY),
        (400, {"error": {"status": "INVALID_ARGUMENT"}}, Action.FAIL),
    ],
)
def test_google_error_table(status, body, action):
    assert GoogleErrors().classify(Failure(status, body))[0] is action


def test_media_items_keep_urls_and_label_and_drop_what_shows_nothing():
    media = [
        {"thumbnailUrl": "https://t/1", "thumbnailLabel": "Menu", "unknown": 1},
        {"thumbnailLabel": "a label alone"},
        {"videoUrl": 3, "thumbnailUrl": ""},
    ]
    item = parse(review(reviewMediaItems=media))
    assert item.media == [{"thumbnail_url": "https://t/1", "thumbnail_label": "Menu"}]


def test_text_postgresql_cannot_hold_is_made_storable():
    item = parse(
        review(comment="Nul\x00led and half \ud800 a pair", reviewer={"displayName": "A\x00n"})
    )
    assert item.text == "Nulled and half \ufffd a pair"
    assert item.author_name == "An"
