"""Facebook through HTTP only: connect in the login dialog, sync, read, reply, see it at Facebook.

Real parts throughout: the API under uvicorn, a dramatiq worker on Redis, PostgreSQL, and the
sandbox speaking the Graph API on loopback.
"""

from __future__ import annotations

from tests.support import wait_for
from tests.workers.facebook_support import (
    connect_through_api,
    fb_admin,
    use_facebook_app,
)


def _inbox(api, **params):
    return api.get("/api/v1/items", params={"limit": 100, "source": "facebook", **params}).json()


def test_connect_sync_and_reply_to_a_comment_and_a_recommendation(facebook_api, sandbox, configure):
    api = facebook_api
    # Given a Graph API version that still serves ratings
    use_facebook_app(configure, facebook_graph_version="v21.0")
    pages = fb_admin(sandbox, "GET", "/summary")["pages"]
    expected = {
        "recommendation": sum(len(p["ratings"]) for p in pages),
        "comment": sum(p["comments"] for p in pages),
        "mention": sum(len(p["tagged"]) for p in pages),
    }

    # When the owner connects Facebook in the login dialog
    connection_id = connect_through_api(api)

    # Then every page is a location and every item lands in the inbox with its kind
    def synced():
        """every recommendation, comment and mention is in the inbox"""
        return all(len(_inbox(api, kind=k)["items"]) == n for k, n in expected.items())

    wait_for(synced, timeout=30)
    connection = api.get(f"/api/v1/connections/{connection_id}").json()
    assert connection["status"] == "active" and connection["location_count"] == len(pages)
    assert "pages_manage_engagement" in connection["scopes"]
    assert {loc["name"] for loc in api.get("/api/v1/locations").json()["locations"]} == {
        p["name"] for p in pages
    }
    # The page's own answers in a thread are replies, not comments
    assert any(item["replied"] for item in _inbox(api, kind="comment")["items"])

    # When the owner replies to a comment and to a recommendation
    comment = _inbox(api, kind="comment", replied="false")["items"][0]
    recommendation = _inbox(api, kind="recommendation")["items"][0]
    sent = []
    for item, text in ((comment, "Thanks for the comment!"), (recommendation, "Thank you!")):
        reply = api.post(f"/api/v1/items/{item['id']}/reply", json={"text": text, "mode": "add"})
        assert reply.status_code == 202, reply.text
        sent.append(reply.json()["reply"]["id"])

    def delivered():
        """both replies are sent"""
        return all(
            api.get(f"/api/v1/replies/{r}").json()["reply"]["status"] == "sent" for r in sent
        )

    wait_for(delivered, timeout=20)

    # Then Facebook has them under the comment and under the recommendation's story
    at_facebook = {
        (r["parent_id"], r["message"])
        for r in fb_admin(sandbox, "GET", "/replies")["replies"]
        if not r["deleted"]
    }
    assert (comment["external_id"], "Thanks for the comment!") in at_facebook
    assert (recommendation["external_id"], "Thank you!") in at_facebook
    assert api.get(f"/api/v1/items/{comment['id']}").json()["replied"] is True


def test_once_v21_is_gone_recommendations_are_retired_and_the_rest_keeps_syncing(
    facebook_api, sandbox
):
    api = facebook_api
    # Given Facebook serves v22 as its oldest version, so v21.0 calls get error 12 too
    fb_admin(sandbox, "PATCH", "/settings", json={"oldest_version": 22})
    connection_id = connect_through_api(api)

    def retired():
        """the ratings capability is marked retired"""
        capabilities = api.get(f"/api/v1/connections/{connection_id}").json()["capabilities"]
        return (capabilities.get("facebook_ratings") or {}).get("state") == "retired"

    wait_for(retired, timeout=30)
    connection = api.get(f"/api/v1/connections/{connection_id}").json()
    assert "12" in connection["capabilities"]["facebook_ratings"]["message"]
    assert connection["status"] == "active"
    wait_for(lambda: _inbox(api, kind="comment")["items"], timeout=20)
    assert _inbox(api, kind="recommendation")["items"] == []

    # And a sync asked for later does not ask Facebook for ratings again
    sync = api.post(f"/api/v1/connections/{connection_id}/sync")
    assert sync.status_code == 202 and "facebook_ratings" not in sync.json()["enqueued"]
