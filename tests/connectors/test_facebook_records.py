"""Facebook's shapes against hand-made bodies: paging, the error table, usage headers, records,
webhook signatures and events, and the facebook-sdk adapter."""

from __future__ import annotations

import json

import facebook
import pytest

from connectors.base import Action, Failure
from connectors.facebook.comments import FacebookComments
from connectors.facebook.errors import FacebookErrors
from connectors.facebook.graph import GraphClient, GraphSession
from connectors.facebook.ratings import FacebookRatings
from connectors.facebook.usage import Level, Usage
from connectors.facebook.webhooks import Change, changes, sign, signature_valid
from connectors.records import MalformedRecord


def graph_failure(code: int, subcode: int | None = None, **extra) -> Failure:
    error = {"message": "m", "type": "OAuthException", "code": code, "fbtrace_id": "x", **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return Failure(400, {"error": error})


@pytest.mark.parametrize(
    ("code", "subcode", "action"),
    [
        (190, 463, Action.NEEDS_REAUTH),
        (190, 460, Action.NEEDS_REAUTH),
        (190, None, Action.NEEDS_REAUTH),
        (4, None, Action.RATE_LIMITED),
        (17, None, Action.RATE_LIMITED),
        (32, None, Action.RATE_LIMITED),
        (613, None, Action.RATE_LIMITED),
        (80001, None, Action.RATE_LIMITED),
        (10, None, Action.MISSING_PERMISSION),
        (200, None, Action.MISSING_PERMISSION),
        (283, None, Action.MISSING_PERMISSION),
        (299, None, Action.MISSING_PERMISSION),
        (12, None, Action.RETIRED),
        (1, None, Action.RETRY),
        (2, None, Action.RETRY),
        (100, 33, Action.SKIP),
        (100, None, Action.FAIL),
        (506, None, Action.FAIL),
    ],
)
def test_the_error_table_branches_on_the_graph_error_code(code, subcode, action):
    found, message = FacebookErrors().classify(graph_failure(code, subcode))
    assert found is action
    assert message.startswith(f"Facebook error {code}")


def test_bodies_without_a_graph_error_fall_back_to_the_status():
    assert FacebookErrors().classify(Failure(502, {}))[0] is Action.RETRY
    assert FacebookErrors().classify(Failure(400, {"error": "x"}))[0] is Action.FAIL
    assert FacebookErrors().classify(graph_failure(9999, is_transient=True))[0] is Action.RETRY


def test_usage_headers_give_the_highest_percentage_and_the_wait_in_seconds():
    headers = {
        "x-app-usage": json.dumps({"call_count": 28, "total_cputime": 25, "total_time": 25}),
        "x-business-use-case-usage": json.dumps(
            {
                "123": [
                    {
                        "type": "pages",
                        "call_count": 95,
                        "total_cputime": 20,
                        "total_time": 20,
                        "estimated_time_to_regain_access": 2,
                    }
                ]
            }
        ),
    }
    usage = Usage.from_headers(headers)
    assert (usage.percent, usage.regain_seconds) == (95.0, 120.0)
    assert usage.app == Level(28.0) and usage.pages == {"123": Level(95.0, 120.0)}
    assert Usage.from_headers({"x-app-usage": "not json"}) == Usage()


def test_a_recommendation_is_keyed_by_its_story_and_keeps_yes_or_no_as_the_scale_ends():
    record = {
        "created_time": "2024-05-01T10:00:00+0000",
        "open_graph_story": {"id": "123_456"},
        "recommendation_type": "negative",
        "review_text": "Cold coffee",
        "reviewer": {"id": "9", "name": "Ann"},
    }
    item = FacebookRatings(client=None).parse(record)
    assert (item.kind, item.external_id, item.rating, item.text) == (
        "recommendation",
        "123_456",
        1,
        "Cold coffee",
    )
    assert FacebookRatings(client=None).parse({**record, "rating": 4}).rating == 4
    with pytest.raises(MalformedRecord):
        FacebookRatings(client=None).parse({**record, "open_graph_story": {}})


def test_a_comment_thread_takes_the_pages_latest_answer_as_its_reply():
    stream = FacebookComments(client=None)
    stream.location = "P"
    thread = stream.parse_all(
        {
            "id": "c1",
            "message": "Open on Sunday?",
            "created_time": "2024-05-01T10:00:00+0000",
            "from": {"id": "u1", "name": "Ann"},
            "comments": {
                "data": [
                    {"id": "r1", "message": "Yes!", "created_time": "2024-05-01T11:00:00+0000",
                     "from": {"id": "P", "name": "Page"}},
                    {"id": "r2", "message": "Me too?", "created_time": "2024-05-01T12:00:00+0000",
                     "from": {"id": "u2", "name": "Bo"}},
                ]
            },
        }
    )  # fmt: skip
    assert [(i.external_id, i.text, i.reply_text) for i in thread] == [
        ("c1", "Open on Sunday?", "Yes!"),
        ("r2", "Me too?", None),
    ]


def test_the_signature_is_checked_on_the_raw_bytes():
    body = b'{"object":"page","entry":[]}'
    assert signature_valid(body, sign(body, "secret"), "secret")
    assert not signature_valid(body, sign(body, "other"), "secret")
    assert not signature_valid(body + b" ", sign(body, "secret"), "secret")
    assert not signature_valid(body, None, "secret")
    assert not signature_valid(body, sign(body, ""), "")  # no secret configured: refuse all


def test_batched_entries_become_one_change_each():
    payload = {
        "object": "page",
        "entry": [
            {"id": "P", "time": 1, "changes": [
                {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": "c",
                 "post_id": "P_1", "from": {"id": "u", "name": "Ann"}, "message": "Hi",
                 "created_time": 1520383571}},
                {"field": "feed", "value": {"item": "comment", "verb": "add", "comment_id": "d",
                 "post_id": "P_1", "from": {"id": "P", "name": "Page"}, "message": "Ours",
                 "created_time": 1520383571}},
                {"field": "feed", "value": {"item": "reaction", "verb": "add"}},
            ]},
            {"id": "Q", "time": 1, "changes": [
                {"field": "ratings", "value": {"item": "rating", "verb": "add",
                 "open_graph_story_id": "s", "recommendation_type": "positive",
                 "created_time": 1520383571}},
                {"field": "mention", "value": {"item": "comment", "verb": "add", "post_id": "x",
                 "comment_id": "m", "message": "@Q", "created_time": 1520383571}},
            ]},
        ],
    }  # fmt: skip
    found = [(c.page_id, c.change, c.capability, c.external_id) for c in changes(payload)]
    assert found == [
        ("P", Change.INSERT, "facebook_comments", "c"),
        ("P", Change.SYNC, "facebook_comments", None),  # the page's own reply: read the thread
        ("Q", Change.INSERT, "facebook_ratings", "s"),
        ("Q", Change.INSERT, "facebook_tagged", "m"),
    ]
    assert list(changes({"object": "user", "entry": []})) == []


def test_the_adapter_pins_a_two_digit_version_and_targets_the_configured_url(configure):
    # facebook-sdk 3.1.0 itself refuses two-digit versions
    with pytest.raises(facebook.GraphAPIError):
        facebook.GraphAPI(version="22.0")
    configure(facebook_graph_url="http://127.0.0.1:9/graph/", facebook_graph_version="v22.0")
    client = GraphClient("token")
    assert client.graph.version == "v22.0"
    assert isinstance(client.graph.session, GraphSession)
    assert facebook.FACEBOOK_GRAPH_URL == "https://graph.facebook.com/"  # not mutated
