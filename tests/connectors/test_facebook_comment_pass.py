"""The Facebook comment pass (``FacebookComments``, a ``connectors.passes.ChildPass``): the
feed, then the comments of the posts updated since the cursor, against hand-built answers.

The Graph client is the real one (facebook-sdk through ``GraphSession``) pointed at a scripted
loopback server, so the requests it makes are the ones Facebook would receive.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors import errors
from connectors.facebook.comments import FacebookComments
from connectors.facebook.graph import GraphClient
from tests.connectors.scripted import Reply, ScriptedServer

PAGE = "1001"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def graph(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def post(post_id: str, updated: int) -> dict:
    return {"id": post_id, "created_time": graph(at(0)), "updated_time": graph(at(updated))}


def comment(comment_id: str, minute: int, author: str = "77", *answers: dict) -> dict:
    record = {
        "id": comment_id,
        "message": f"comment {comment_id}",
        "created_time": graph(at(minute)),
        "from": {"id": author, "name": f"Person {author}"},
    }
    if answers:
        record["comments"] = {"data": list(answers)}
    return record


def edge_page(records: list[dict], after: str | None = None) -> Reply:
    paging: dict = {"cursors": {"before": "b", "after": after or "end"}}
    if after:
        paging["next"] = f"https://graph.facebook.com/v22.0/next?after={after}"
    return Reply(200, {"data": records, "paging": paging})


@pytest.fixture
def comments(scripted: ScriptedServer, slept: list[float], configure) -> FacebookComments:
    configure(facebook_graph_url=scripted.url + "/", facebook_graph_version="v22.0")
    return FacebookComments(GraphClient("page-token", sleep=slept.append))


def read(stream: FacebookComments, cursor: datetime | None):
    one_pass = stream.read(PAGE, cursor)
    pages = list(one_pass.pages())
    return one_pass, [item for p in pages for item in p.items]


def paths(server: ScriptedServer) -> list[str]:
    return [r.path for r in server.received]


def test_a_first_pass_reads_every_feed_page_and_every_posts_comments(scripted, comments):
    scripted.answer(
        edge_page([post("p1", 30), post("p2", 20)], after="f2"),
        edge_page([comment("c1", 25)]),  # p1's comments
        edge_page([comment("c2", 15)]),  # p2's comments
        edge_page([post("p3", 10)]),  # the feed's second page
        edge_page([comment("c3", 5)]),
    )
    one_pass, items = read(comments, cursor=None)

    assert [i.external_id for i in items] == ["c1", "c2", "c3"]
    assert paths(scripted) == [
        f"/v22.0/{PAGE}/feed",
        "/v22.0/p1/comments",
        "/v22.0/p2/comments",
        f"/v22.0/{PAGE}/feed",
        "/v22.0/p3/comments",
    ]
    feed, _, _, feed2, _ = scripted.received
    assert feed.query["access_token"] == "page-token" and "after" not in feed.query
    assert feed2.query["after"] == "f2"
    assert scripted.received[1].query["filter"] == "toplevel"
    assert one_pass.complete and one_pass.new_cursor == at(30)


def test_an_incremental_pass_asks_only_for_the_comments_of_posts_updated_since_the_cursor(
    scripted, comments
):
    scripted.answer(
        edge_page([post("p1", 30), post("p2", 20), post("p3", 10)]),
        edge_page([comment("c9", 29)]),  # p1's, the only post updated after the cursor
    )
    one_pass, items = read(comments, cursor=at(20))

    assert [i.external_id for i in items] == ["c9"]
    # p2 was updated exactly at the cursor: already read by the pass that set it.
    assert paths(scripted) == [f"/v22.0/{PAGE}/feed", "/v22.0/p1/comments"]
    assert one_pass.new_cursor == at(30)


def test_with_nothing_new_only_the_feed_is_read_and_the_cursor_stays(scripted, comments):
    scripted.answer(edge_page([post("p1", 20), post("p2", 10)]))
    one_pass, items = read(comments, cursor=at(20))
    assert items == [] and len(scripted.received) == 1
    assert one_pass.complete and one_pass.new_cursor == at(20)


def test_the_pages_latest_answer_is_the_reply_and_other_answers_are_comments(scripted, comments):
    scripted.answer(
        edge_page([post("p1", 30)]),
        edge_page(
            [
                comment(
                    "c1",
                    10,
                    "77",
                    comment("a1", 11, PAGE),
                    comment("a2", 12, "88"),
                    comment("a3", 13, PAGE),
                )
            ]
        ),
    )
    _, items = read(comments, cursor=None)

    first, other = items
    assert first.external_id == "c1" and first.author_external_id == "77"
    assert first.reply_text == "comment a3" and first.reply_updated_at == at(13)
    assert other.external_id == "a2" and other.author_external_id == "88"


def test_a_posts_comments_are_paged_through(scripted, comments):
    scripted.answer(
        edge_page([post("p1", 30)]),
        edge_page([comment("c1", 20)], after="k2"),
        edge_page([comment("c2", 10)]),
    )
    _, items = read(comments, cursor=None)
    assert [i.external_id for i in items] == ["c1", "c2"]
    assert scripted.received[2].query["after"] == "k2"


def test_malformed_posts_and_comments_are_skipped_and_counted(scripted, comments):
    scripted.answer(
        edge_page([{"id": "p0", "updated_time": "yesterday"}, post("p1", 30)]),
        edge_page([{"id": "cx", "from": "not an object"}, comment("c1", 20)]),
    )
    one_pass = comments.read(PAGE, None)
    [only] = list(one_pass.pages())

    assert [i.external_id for i in only.items] == ["c1"]
    assert only.seen_ids == ["cx", "c1"]  # seen, so a full pass does not mark it deleted
    assert one_pass.skipped == 2  # the post and the comment
    assert paths(scripted) == [f"/v22.0/{PAGE}/feed", "/v22.0/p1/comments"]


def test_an_expired_page_token_ends_the_pass_without_moving_the_cursor(scripted, comments):
    scripted.answer(
        edge_page([post("p1", 30)]),
        Reply(400, {"error": {"code": 190, "error_subcode": 463, "message": "expired"}}),
    )
    one_pass = comments.read(PAGE, at(5))
    with pytest.raises(errors.NeedsReauth):
        list(one_pass.pages())
    assert not one_pass.complete and one_pass.new_cursor is None


def test_the_feed_is_read_only_until_a_page_reaches_the_cursor(scripted, comments):
    # Given a feed of two pages, newest-updated first, whose first page ends with a post
    # unchanged since the last pass
    scripted.answer(
        edge_page([post("p1", 30), post("p2", 10)], after="f2"),
        edge_page([comment("c9", 29)]),  # p1's
    )
    one_pass, items = read(comments, cursor=at(20))

    # Then the second page is never asked for: everything on it is older still
    assert [i.external_id for i in items] == ["c9"]
    assert paths(scripted) == [f"/v22.0/{PAGE}/feed", "/v22.0/p1/comments"]
    assert one_pass.complete and one_pass.new_cursor == at(30)


def test_with_nothing_new_a_feed_of_many_pages_costs_one_request(scripted, comments):
    scripted.answer(edge_page([post("p1", 20), post("p2", 10)], after="f2"))
    one_pass, items = read(comments, cursor=at(20))
    assert items == [] and paths(scripted) == [f"/v22.0/{PAGE}/feed"]
    assert one_pass.complete and one_pass.new_cursor == at(20)


def test_a_stopped_pass_resumes_at_the_post_and_comment_page_it_was_reading(scripted, comments):
    # Given a pass stopped by a throttle while reading p2's second page of comments
    scripted.answer(
        edge_page([post("p1", 30), post("p2", 20)], after="f2"),
        edge_page([comment("c1", 25)]),
        edge_page([comment("c2", 15)], after="k2"),
        # Refused on every attempt the client makes
        *[Reply(400, {"error": {"code": 80001, "message": "too many calls"}})] * 4,
    )
    stopped = comments.read(PAGE, None)
    with pytest.raises(errors.RateLimited):
        list(stopped.pages())
    assert stopped.position == {
        "parents": {},
        "parent": "p2",
        "children": {"after": "k2"},
        "highest": at(30).isoformat(),
    }

    # When the next pass starts from that position
    scripted.answer(
        edge_page([post("p1", 30), post("p2", 20)], after="f2"),
        edge_page([comment("c3", 14)]),  # p2's second page
        edge_page([post("p3", 10)]),
        edge_page([comment("c4", 5)]),
    )
    resumed, items = read_from(comments, stopped.position)

    # Then it reads p2's comments from their second page on, and the rest of the feed
    assert [i.external_id for i in items] == ["c3", "c4"]
    assert paths(scripted) == [
        f"/v22.0/{PAGE}/feed",
        "/v22.0/p2/comments",
        f"/v22.0/{PAGE}/feed",
        "/v22.0/p3/comments",
    ]
    assert scripted.received[1].query["after"] == "k2"
    assert resumed.complete and resumed.new_cursor == at(30)


def read_from(stream: FacebookComments, position):
    one_pass = stream.read(PAGE, None, position)
    pages = list(one_pass.pages())
    return one_pass, [item for p in pages for item in p.items]
