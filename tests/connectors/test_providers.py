"""The provider registry: every table plaudit keeps about capabilities is derived from what each
capability declares, so a capability is declared in one place."""

from __future__ import annotations

from connectors import providers
from connectors.account import LocationRef, Tokens
from connectors.facebook.account import FacebookAccount, webhook_fields
from connectors.facebook.replies import FacebookReplies
from connectors.google.account import GoogleAccount
from connectors.google.qanda import QandaAnswers
from connectors.google.review_replies import GoogleReviewReplies
from connectors.google.reviews import GoogleReviews
from services.replies import replies


def test_one_registry_lists_every_provider_and_its_capabilities_in_declaration_order():
    assert {"google": GoogleAccount, "facebook": FacebookAccount} == providers.ACCOUNTS
    assert providers.BY_PROVIDER["google"] == ["google_reviews", "google_qanda"]
    assert providers.BY_PROVIDER["facebook"][:3] == [
        "facebook_ratings",
        "facebook_comments",
        "facebook_tagged",
    ]
    assert providers.KINDS[:5] == ["review", "question", "recommendation", "comment", "mention"]


def test_reply_limits_and_answer_counts_come_from_the_capabilities():
    limits = providers.REPLY_LIMITS
    assert (limits[("google", "review")].size, limits[("google", "review")].unit) == (4096, "bytes")
    assert limits[("google", "question")].unit == "characters"
    for kind in ("recommendation", "comment", "mention"):
        assert limits[("facebook", kind)].size == 8000
        assert ("facebook", kind) in providers.SEVERAL_ANSWERS
    assert ("google", "review") not in providers.SEVERAL_ANSWERS
    # The services' table is the registry's plus plaudit's own feedback answers.
    assert {k: v for k, v in replies.REPLY_LIMITS.items() if k[0] != "plaudit"} == limits
    # A read-only capability has no limit, so nothing can be replied to there.
    for (provider, _), stream in providers.CAPABILITIES.items():
        assert ((provider, stream.kind) in limits) == (stream.answering is not None)


def test_repliers_are_built_from_the_declarations():
    google = GoogleAccount(Tokens("a", "r", None))
    assert isinstance(google.replier("review"), GoogleReviewReplies)
    assert isinstance(google.replier("question"), QandaAnswers)
    assert google.replier("mention") is None
    facebook = FacebookAccount(Tokens("a", None, None))
    for kind in ("recommendation", "comment", "mention"):
        replier = facebook.replier(kind)
        assert isinstance(replier, FacebookReplies)
        # Built with the page's own client, per location.
        assert replier.client_for(LocationRef("1001", "page-token")).page_id == "1001"
    assert facebook.replier("review") is None


def test_the_enable_flag_is_the_setting_a_capability_names(configure):
    configure(qanda_enabled=False)
    assert GoogleAccount.enabled("google_reviews") and not GoogleAccount.enabled("google_qanda")
    configure(qanda_enabled=True)
    assert GoogleAccount.enabled("google_qanda")
    assert not GoogleAccount.enabled("no_such_capability")


def test_push_topics_are_what_the_capabilities_declare():
    assert webhook_fields() == "feed,mention,ratings"
    assert GoogleReviews.push is not None
    assert GoogleReviews.push.topics == ("NEW_REVIEW", "UPDATED_REVIEW")
