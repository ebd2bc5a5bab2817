"""``ProviderClient``: one request, retries for reads, no blind retry of writes, the hand-off of
long waits and of refused tokens — against hand-built responses, with the sleep recorded.

The responses come from a scripted loopback server (tests/connectors/scripted.py), so the
client's own ``requests`` session does real HTTP; nothing waits, because ``sleep`` records.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from google.oauth2.credentials import Credentials

from connectors import errors
from connectors.base import Failure, ProviderClient, ProviderFailure
from connectors.google.client import GoogleTokens, authorized_client, current_tokens
from connectors.google.errors import GoogleErrors
from tests.connectors.scripted import Reply, ScriptedServer
from tests.support import free_port

UNAVAILABLE = Reply(503, {"error": {"code": 503, "status": "UNAVAILABLE"}})
THROTTLED = Reply(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}})


class CountingLimiter:
    def __init__(self) -> None:
        self.acquired = 0

    def acquire(self) -> None:
        self.acquired += 1


def client_for(server: ScriptedServer, slept: list[float], **options: object) -> ProviderClient:
    return ProviderClient(
        session=requests.Session(),
        base_url=server.url + "/v4",
        error_table=GoogleErrors(),
        sleep=slept.append,
        **options,  # type: ignore[arg-type]
    )


class Attempts:
    """A transport that makes each attempt with a function: what another client library
    (googleapiclient, facebook-sdk) does behind ``send``."""

    def __init__(self, attempt) -> None:
        self.attempt = attempt

    def send(self, request: object) -> dict:
        return self.attempt()

    def refresh(self) -> bool:
        return False


def bare_client(slept: list[float], attempt) -> ProviderClient:
    return ProviderClient(Attempts(attempt), error_table=GoogleErrors(), sleep=slept.append)


def test_a_read_sends_its_method_path_and_query_and_returns_the_body(scripted, slept):
    scripted.answer(Reply(200, {"reviews": [], "nextPageToken": "p2"}))
    client = client_for(scripted, slept)

    body = client.request("GET", "/accounts/1/reviews", params={"pageSize": 50})

    assert body == {"reviews": [], "nextPageToken": "p2"}
    [sent] = scripted.received
    assert (sent.method, sent.path) == ("GET", "/v4/accounts/1/reviews")
    assert sent.query == {"pageSize": "50"}
    assert client.requests_made == 1 and slept == []


def test_a_body_that_is_not_a_json_object_reads_as_empty(scripted, slept):
    scripted.answer(Reply(200, b"<html>ok</html>"), Reply(200, [1, 2]))
    client = client_for(scripted, slept)
    assert client.request("GET", "a") == {}
    assert client.request("GET", "b") == {}


def test_a_read_is_retried_after_a_5xx_with_growing_jittered_backoff(scripted, slept):
    scripted.answer(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, Reply(200, {"ok": True}))
    limiter = CountingLimiter()
    client = client_for(scripted, slept, base_backoff=0.5, limiter=limiter)

    assert client.request("GET", "reviews") == {"ok": True}

    assert len(scripted.received) == 4 and client.requests_made == 4
    assert limiter.acquired == 4  # every attempt, retries included, is counted against the quota
    # Full jitter: attempt n waits somewhere in [0, base × 2^(n-1)].
    assert len(slept) == 3
    for number, wait in enumerate(slept, start=1):
        assert 0 <= wait <= 0.5 * 2 ** (number - 1)
    assert client.rate_limit_waits == 0


def test_a_read_that_keeps_failing_gives_up_after_max_attempts_as_transient(scripted, slept):
    scripted.answer(*[UNAVAILABLE] * 3)
    client = client_for(scripted, slept, max_attempts=3)

    with pytest.raises(errors.Transient) as raised:
        client.request("GET", "reviews")

    assert type(raised.value) is errors.Transient
    assert "Google 503 UNAVAILABLE" in str(raised.value)
    assert raised.value.retry_after is not None  # the worker's next try waits this long
    assert len(scripted.received) == 3 and len(slept) == 2


def test_a_429_waits_what_retry_after_says_then_succeeds(scripted, slept):
    scripted.answer(Reply(429, THROTTLED.body, {"Retry-After": "7"}), Reply(200, {"reviews": []}))
    client = client_for(scripted, slept)

    assert client.request("GET", "reviews") == {"reviews": []}
    assert slept == [7.0]
    assert client.rate_limit_waits == 1  # the sync run records it


def test_a_wait_longer_than_max_wait_is_handed_back_to_the_worker_without_sleeping(scripted, slept):
    scripted.answer(Reply(429, THROTTLED.body, {"Retry-After": "120"}))
    client = client_for(scripted, slept, max_wait=30.0)

    with pytest.raises(errors.RateLimited) as raised:
        client.request("GET", "reviews")

    assert raised.value.retry_after == 120.0
    assert slept == [] and len(scripted.received) == 1


def test_an_unreadable_retry_after_falls_back_to_backoff(scripted, slept):
    scripted.answer(
        Reply(429, THROTTLED.body, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}),
        Reply(200, {}),
    )
    client = client_for(scripted, slept, base_backoff=0.5)
    client.request("GET", "reviews")
    assert len(slept) == 1 and 0 <= slept[0] <= 0.5


@pytest.mark.parametrize(
    "status,raised",
    [
        (400, errors.Rejected),
        (401, errors.NeedsReauth),
        (403, errors.MissingPermission),
        (404, errors.NotFound),
        (410, errors.CapabilityRetired),
    ],
)
def test_failures_that_retrying_cannot_fix_are_raised_after_one_attempt(
    scripted, slept, status, raised
):
    scripted.answer(Reply(status, {"error": {"code": status, "message": "no"}}))
    client = client_for(scripted, slept)
    with pytest.raises(raised):
        client.request("GET", "reviews")
    assert len(scripted.received) == 1 and slept == []


def test_a_write_answered_with_a_5xx_is_never_repeated_blind(scripted, slept):
    scripted.answer(UNAVAILABLE, Reply(200, {"comment": "Thanks"}))
    client = client_for(scripted, slept)

    with pytest.raises(errors.OutcomeUnknown):
        client.request("PUT", "reviews/1/reply", json={"comment": "Thanks"})

    # Google may have applied it: the caller reads the review back before writing again.
    assert len(scripted.received) == 1 and slept == []
    assert scripted.left == 1


def test_a_write_refused_with_429_cannot_have_been_applied_so_it_is_retried(scripted, slept):
    scripted.answer(
        Reply(429, THROTTLED.body, {"Retry-After": "1"}), Reply(200, {"comment": "Thanks"})
    )
    client = client_for(scripted, slept)

    assert client.request("PUT", "reviews/1/reply", json={"comment": "Thanks"}) == {
        "comment": "Thanks"
    }
    assert slept == [1.0]
    assert [r.method for r in scripted.received] == ["PUT", "PUT"]


def test_a_post_counts_as_a_write_unless_the_caller_says_it_reads(scripted, slept):
    # Some read APIs are POSTs (batch gets); the caller can say so and get read retries.
    scripted.answer(UNAVAILABLE, Reply(200, {"found": 1}))
    client = client_for(scripted, slept)
    assert client.request("POST", "batchGet", json={"ids": [1]}, write=False) == {"found": 1}

    scripted.answer(UNAVAILABLE)
    with pytest.raises(errors.OutcomeUnknown):
        client.request("POST", "reviews/1/reply", json={"comment": "Hi"})


def test_a_write_whose_connection_was_never_made_is_retried(slept):
    # Nothing listens on this port: the connection is refused, so nothing reached the provider.
    client = ProviderClient(
        session=requests.Session(),
        base_url=f"http://127.0.0.1:{free_port()}/",
        error_table=GoogleErrors(),
        sleep=slept.append,
        max_attempts=2,
    )
    with pytest.raises(errors.Transient) as raised:
        client.request("PUT", "reviews/1/reply", json={"comment": "Thanks"})
    assert type(raised.value) is errors.Transient  # not OutcomeUnknown
    assert client.requests_made == 2 and len(slept) == 1


@pytest.mark.parametrize(
    "lost",
    [requests.ReadTimeout("read timed out"), requests.ConnectionError("connection reset")],
)
def test_a_write_whose_answer_was_lost_after_sending_has_an_unknown_outcome(slept, lost):
    attempts = []

    def attempt() -> dict:
        attempts.append(1)
        raise lost

    client = bare_client(slept, attempt)
    with pytest.raises(errors.OutcomeUnknown, match="network error"):
        client.send("a write", write=True)
    assert len(attempts) == 1 and slept == []

    # The same loss on a read is just retried.
    attempts.clear()
    with pytest.raises(errors.Transient):
        client.send("a read", write=False)
    assert len(attempts) == client.max_attempts


def test_an_attempt_through_another_library_reports_failures_with_provider_failure(slept):
    # A transport over googleapiclient raises ``ProviderFailure`` for an error answer.
    answers = [
        ProviderFailure(Failure(503, {})),
        ProviderFailure(Failure(429, {}, 2.5)),
        {"ok": 1},
    ]

    def attempt() -> dict:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = bare_client(slept, attempt)
    assert client.send("a read") == {"ok": 1}
    assert len(slept) == 2 and slept[1] == 2.5


def test_a_classified_error_raised_inside_an_attempt_passes_through_untouched(slept):
    calls = []

    def attempt() -> dict:
        calls.append(1)
        raise errors.NeedsReauth("refused")

    client = bare_client(slept, attempt)
    with pytest.raises(errors.NeedsReauth):
        client.send("a read")
    assert calls == [1] and slept == []


def test_anything_else_an_attempt_raises_is_a_bug_not_a_provider_failure(slept):
    def attempt() -> dict:
        raise KeyError("bug")

    client = bare_client(slept, attempt)
    with pytest.raises(KeyError):
        client.send("a read")
    assert slept == []


# The token hand-off: an access token the API refuses is renewed once (REFRESH_THEN_RETRY, the
# error table's), and ``tokens()`` hands the new one to the worker to save; a refused refresh is
# NeedsReauth.


def google_client(server: ScriptedServer, slept: list[float], expiry: datetime | None):
    creds = Credentials(
        token="old-access",
        refresh_token="the-refresh-token",
        token_uri=server.url + "/token",
        client_id="sandbox-client",
        client_secret="sandbox-secret",
        expiry=expiry.astimezone(UTC).replace(tzinfo=None) if expiry else None,
    )
    client = authorized_client(creds, server.url + "/v4", error_table=GoogleErrors())
    client.sleep = slept.append
    return creds, client


def test_a_refused_access_token_is_refreshed_once_and_the_new_tokens_are_handed_back(
    scripted, slept
):
    scripted.answer(
        Reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}),
        Reply(200, {"access_token": "new-access", "expires_in": 3600, "token_type": "Bearer"}),
        Reply(200, {"reviews": []}),
    )
    creds, client = google_client(scripted, slept, expiry=None)

    assert client.request("GET", "accounts/1/locations/2/reviews") == {"reviews": []}

    api, token, retried = scripted.received
    assert api.headers["authorization"] == "Bearer old-access"
    assert token.path == "/token" and token.form()["grant_type"] == "refresh_token"
    assert token.form()["refresh_token"] == "the-refresh-token"
    assert retried.headers["authorization"] == "Bearer new-access"
    # Two API requests, both counted against the quota; the renewal waits for nothing.
    assert client.requests_made == 2 and slept == []
    saved = current_tokens(creds)
    assert saved.access_token == "new-access" and saved.refresh_token == "the-refresh-token"
    assert saved.expires_at is not None and saved.expires_at > datetime.now(UTC)


def test_an_expired_token_is_refreshed_before_the_call(scripted, slept):
    scripted.answer(
        Reply(200, {"access_token": "fresh", "expires_in": 3600}), Reply(200, {"ok": True})
    )
    _, client = google_client(scripted, slept, expiry=datetime.now(UTC) - timedelta(minutes=5))

    assert client.request("GET", "x") == {"ok": True}
    token, api = scripted.received
    assert token.path == "/token" and api.headers["authorization"] == "Bearer fresh"


def test_a_refused_refresh_token_needs_a_person_to_reconnect_and_is_not_retried(scripted, slept):
    scripted.answer(
        Reply(401, {"error": {"code": 401}}),
        Reply(400, {"error": "invalid_grant", "error_description": "Token has been revoked."}),
    )
    creds, client = google_client(scripted, slept, expiry=None)

    with pytest.raises(errors.NeedsReauth, match="refused the refresh token"):
        client.request("GET", "x")

    assert len(scripted.received) == 2 and client.requests_made == 1 and slept == []
    assert current_tokens(creds) == GoogleTokens("old-access", "the-refresh-token", None)
