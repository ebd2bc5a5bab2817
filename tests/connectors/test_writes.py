"""A write is never retried blind: how ``ProviderClient`` classifies a failed attempt.

Hand-built failures for the classification itself, then the sandbox over real HTTP for what a
client does when a connection drops, a 5xx or a 429 comes back, or nothing listens.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from connectors import errors
from connectors.base import Action, ErrorTable, Failure, ProviderClient, ProviderFailure
from connectors.facebook.errors import FacebookErrors
from connectors.google.errors import GoogleErrors

SCOPE = "https://www.googleapis.com/auth/business.manage"


def decide(failure: BaseException, table: ErrorTable, *, write: bool):
    decided = table.decide(failure, write=write)
    assert decided is not None
    return decided


REPLY_PATH = r"^/mybusiness/v4/.*/reply$"

refused = requests.ConnectionError(
    MaxRetryError(None, "/v4/x", NewConnectionError(None, "Connection refused"))  # type: ignore[arg-type]
)
reset = requests.ConnectionError(
    ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
)


@pytest.mark.parametrize(
    ("failure", "as_read", "as_write"),
    [
        # Sent, and no answer that says what happened.
        (reset, Action.RETRY, Action.OUTCOME_UNKNOWN),
        (requests.ReadTimeout("read timed out"), Action.RETRY, Action.OUTCOME_UNKNOWN),
        (requests.exceptions.ChunkedEncodingError("cut"), Action.RETRY, Action.OUTCOME_UNKNOWN),
        (ProviderFailure(Failure(500, {})), Action.RETRY, Action.OUTCOME_UNKNOWN),
        (ProviderFailure(Failure(503, {})), Action.RETRY, Action.OUTCOME_UNKNOWN),
        # Never reached the provider: safe to send again.
        (refused, Action.RETRY, Action.RETRY),
        (requests.ConnectTimeout("connect timed out"), Action.RETRY, Action.RETRY),
        # The provider refused it: definitive, whatever the method.
        (ProviderFailure(Failure(429, {}, 2.0)), Action.RATE_LIMITED, Action.RATE_LIMITED),
        (ProviderFailure(Failure(400, {})), Action.FAIL, Action.FAIL),
        (ProviderFailure(Failure(404, {})), Action.SKIP, Action.SKIP),
    ],
)
def test_google_failures_of_reads_and_writes(failure, as_read, as_write) -> None:
    table = GoogleErrors()
    assert decide(failure, table, write=False)[0] is as_read
    assert decide(failure, table, write=True)[0] is as_write


def test_a_write_refused_for_a_while_keeps_the_wait_and_a_lost_one_waits_for_nothing() -> None:
    table = GoogleErrors()
    assert decide(ProviderFailure(Failure(429, {}, 2.0)), table, write=True)[2] == 2.0
    action, message, wait = decide(reset, table, write=True)
    assert action is Action.OUTCOME_UNKNOWN and wait is None
    assert message == "network error: ConnectionError"


@pytest.mark.parametrize(
    ("code", "as_write"),
    [
        (2, Action.OUTCOME_UNKNOWN),  # "service temporarily unavailable": may have been applied
        (1, Action.OUTCOME_UNKNOWN),
        (32, Action.RATE_LIMITED),  # throttled: refused before doing anything
        (190, Action.NEEDS_REAUTH),
    ],
)
def test_facebook_error_codes_of_a_write(code: int, as_write: Action) -> None:
    failure = ProviderFailure(Failure(500 if code < 3 else 400, {"error": {"code": code}}))
    assert decide(failure, FacebookErrors(), write=True)[0] is as_write


# -- over real HTTP, against the sandbox -------------------------------------------------------


@pytest.fixture
def google(sandbox) -> Iterator[ProviderClient]:
    """A v4 client on a plain session with a token the sandbox minted; no backoff sleeps."""
    token = sandbox.state.mint_tokens("sandbox-client", [SCOPE])["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    yield ProviderClient(
        session=session,
        base_url=sandbox.url + "/mybusiness/",
        error_table=GoogleErrors(),
        sleep=lambda seconds: None,
    )
    session.close()


def admin(sandbox, method: str, path: str, **kwargs):
    response = httpx.request(method, f"{sandbox.url}/_admin{path}", timeout=10, **kwargs)
    assert response.status_code < 400, response.text
    return response.json()


def a_review(sandbox, client: ProviderClient) -> str:
    location = sandbox.state.locations_summary()[0]["name"]
    return client.request("GET", f"v4/{location}/reviews")["reviews"][0]["name"]


def reply_requests(sandbox) -> int:
    return admin(sandbox, "GET", "/requests", params={"path": REPLY_PATH})["total"]


def test_a_write_whose_connection_drops_after_it_was_applied_is_not_sent_again(sandbox, google):
    review = a_review(sandbox, google)
    lost_answer = {"path": REPLY_PATH, "drop": True, "after_handling": True}
    admin(sandbox, "POST", "/faults", json=lost_answer)
    made = google.requests_made

    with pytest.raises(errors.OutcomeUnknown):
        google.request("PUT", f"v4/{review}/reply", json={"comment": "Once"})

    assert google.requests_made - made == 1
    assert reply_requests(sandbox) == 1
    assert google.request("GET", f"v4/{review}")["reviewReply"]["comment"] == "Once"


@pytest.mark.parametrize("status", [500, 503])
def test_a_write_answered_with_a_5xx_is_not_sent_again(sandbox, google, status: int):
    review = a_review(sandbox, google)
    admin(sandbox, "POST", "/faults", json={"path": REPLY_PATH, "status": status})

    with pytest.raises(errors.OutcomeUnknown) as lost:
        google.request("PUT", f"v4/{review}/reply", json={"comment": "Once"})

    assert str(status) in str(lost.value)
    assert reply_requests(sandbox) == 1


def test_a_write_refused_with_a_429_is_sent_again_in_place(sandbox, google):
    review = a_review(sandbox, google)
    admin(sandbox, "POST", "/faults", json={"path": REPLY_PATH, "status": 429, "retry_after": 0})

    answer = google.request("PUT", f"v4/{review}/reply", json={"comment": "Twice asked"})

    assert answer["comment"] == "Twice asked"
    assert reply_requests(sandbox) == 2


def test_a_read_whose_connection_drops_is_retried_in_place(sandbox, google):
    review = a_review(sandbox, google)
    admin(sandbox, "POST", "/faults", json={"path": r"/reviews/[^/]+$", "drop": True})
    made = google.requests_made

    assert google.request("GET", f"v4/{review}")["name"] == review
    assert google.requests_made - made == 2


def test_an_explicit_write_is_not_retried_even_as_a_get(sandbox, google):
    review = a_review(sandbox, google)
    admin(sandbox, "POST", "/faults", json={"path": r"/reviews/[^/]+$", "drop": True})

    with pytest.raises(errors.OutcomeUnknown):
        google.request("GET", f"v4/{review}", write=True)


def test_a_write_that_never_connected_is_retried_then_reported_as_transient() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ProviderClient(
        session=requests.Session(),
        base_url=f"http://127.0.0.1:{port}/",
        error_table=GoogleErrors(),
        sleep=lambda seconds: None,
    )

    with pytest.raises(errors.Transient) as failed:
        client.request("PUT", "v4/x/reply", json={"comment": "never sent"})

    assert not isinstance(failed.value, errors.OutcomeUnknown)
    assert client.requests_made == client.max_attempts
