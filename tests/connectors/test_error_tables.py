"""One error table per provider, against hand-built failures: what each provider's client library
raises instead of answering (token refresh, network errors) is classified there too, and a
refused token is renewed once, never more."""

from __future__ import annotations

import httplib2
import pytest
import requests
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials

from connectors import errors
from connectors.base import Action, Failure, ProviderClient, ProviderFailure
from connectors.facebook.errors import FacebookErrors
from connectors.google.client import authorized_client
from connectors.google.errors import GoogleErrors
from connectors.google.qanda import QandaErrors
from tests.connectors.scripted import Reply


def decided(table, failure: BaseException, *, write: bool = False) -> Action:
    found = table.decide(failure, write=write)
    assert found is not None
    return found[0]


@pytest.mark.parametrize(
    ("failure", "as_read", "as_write"),
    [
        # google-auth could not renew the token: the request itself was never sent.
        (RefreshError("invalid_grant: Token has been revoked.", retryable=False),
         Action.NEEDS_REAUTH, Action.NEEDS_REAUTH),
        (RefreshError("server_error", retryable=True), Action.RETRY, Action.RETRY),
        (TransportError("token endpoint unreachable"), Action.RETRY, Action.RETRY),
        # googleapiclient sends over httplib2, whose failures are not requests'.
        (httplib2.ServerNotFoundError("no such host"), Action.RETRY, Action.RETRY),
        (TimeoutError("timed out"), Action.RETRY, Action.OUTCOME_UNKNOWN),
        (ConnectionRefusedError(111, "refused"), Action.RETRY, Action.RETRY),
        # A refused access token is renewed, whatever the method: it was not applied.
        (ProviderFailure(Failure(401, {"error": {"status": "UNAUTHENTICATED"}})),
         Action.REFRESH_THEN_RETRY, Action.REFRESH_THEN_RETRY),
        (ProviderFailure(Failure(404, {})), Action.SKIP, Action.SKIP),
        (ProviderFailure(Failure(410, {})), Action.RETIRED, Action.RETIRED),
    ],
)  # fmt: skip
def test_google_table_covers_refresh_and_network_failures(failure, as_read, as_write):
    assert decided(GoogleErrors(), failure) is as_read
    assert decided(GoogleErrors(), failure, write=True) is as_write


def test_q_and_a_table_reads_not_there_as_the_api_gone():
    assert decided(QandaErrors(), ProviderFailure(Failure(404, {}))) is Action.RETIRED
    assert decided(QandaErrors(), ProviderFailure(Failure(401, {}))) is Action.REFRESH_THEN_RETRY


@pytest.mark.parametrize(
    ("failure", "action"),
    [
        (requests.ConnectionError("reset"), Action.RETRY),
        (requests.ReadTimeout("slow"), Action.RETRY),
        (ProviderFailure(Failure(400, {"error": {"code": 190, "error_subcode": 463}})),
         Action.NEEDS_REAUTH),
        (ProviderFailure(Failure(400, {"error": {"code": 100, "error_subcode": 33}})),
         Action.SKIP),
        (ProviderFailure(Failure(400, {"error": {"code": 80001}})), Action.RATE_LIMITED),
        (ProviderFailure(Failure(400, {"error": {"code": 12}})), Action.RETIRED),
        (ProviderFailure(Failure(400, {"error": {"code": 283}})), Action.MISSING_PERMISSION),
        (ProviderFailure(Failure(400, {"error": {"code": 506}})), Action.FAIL),
    ],
)  # fmt: skip
def test_facebook_table_covers_network_failures_and_graph_codes(failure, action):
    assert decided(FacebookErrors(), failure) is action


def test_what_is_not_a_provider_failure_is_left_to_raise():
    assert GoogleErrors().decide(KeyError("bug"), write=False) is None
    assert FacebookErrors().decide(ValueError("bug"), write=False) is None


def test_a_token_refused_again_after_its_renewal_needs_a_person(scripted, slept):
    scripted.answer(
        Reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}),
        Reply(200, {"access_token": "new-access", "expires_in": 3600}),
        Reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}),
    )
    creds = Credentials(
        token="old-access",
        refresh_token="r",
        token_uri=scripted.url + "/token",
        client_id="c",
        client_secret="s",
    )
    client = authorized_client(creds, scripted.url + "/v4", error_table=GoogleErrors())
    client.sleep = slept.append

    with pytest.raises(errors.NeedsReauth):
        client.request("GET", "accounts/1/locations/2/reviews")

    # One renewal, then no more requests: the table does not loop on refused tokens.
    assert [r.path for r in scripted.received] == [
        "/v4/accounts/1/locations/2/reviews",
        "/token",
        "/v4/accounts/1/locations/2/reviews",
    ]
    assert slept == []


def test_a_transport_without_a_token_to_renew_needs_a_person_at_once(slept):
    calls = []

    class NoRenewal:
        def send(self, request: object) -> dict:
            calls.append(request)
            raise ProviderFailure(Failure(401, {}))

        def refresh(self) -> bool:
            return False

    client = ProviderClient(NoRenewal(), error_table=GoogleErrors(), sleep=slept.append)
    with pytest.raises(errors.NeedsReauth):
        client.send("a read")
    assert len(calls) == 1 and slept == []
