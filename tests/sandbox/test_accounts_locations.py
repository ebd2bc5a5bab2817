"""Account Management and Business Information v1, through googleapiclient's own discovery
documents pointed at the sandbox."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from connectors.sandbox import SandboxServer, SandboxState
from connectors.sandbox.google_http import UNAUTHENTICATED_MESSAGE, WWW_AUTHENTICATE
from tests.sandbox.conftest import CLIENT_ID, CLIENT_SECRET, SCOPE


@pytest.fixture
def credentials(urls: dict[str, str], tokens: dict[str, str]) -> Credentials:
    return Credentials(
        token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=urls["google_token_uri"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scopes=[SCOPE],
    )


def service(name: str, url: str, credentials: Credentials) -> Any:  # a discovery Resource
    return build(
        name,
        "v1",
        credentials=credentials,
        client_options={"api_endpoint": url},
        static_discovery=True,
    )


def test_accounts_list_through_googleapiclient(
    urls: dict[str, str], credentials: Credentials, state: SandboxState
) -> None:
    accounts = service(
        "mybusinessaccountmanagement", urls["google_account_management_url"], credentials
    )
    listed = accounts.accounts().list().execute()

    assert "nextPageToken" not in listed
    personal, group = listed["accounts"]
    assert personal["type"] == "PERSONAL"  # the user's own account comes first
    assert set(personal) == {"name", "accountName", "type", "verificationState", "vettedState"}
    assert group["name"].startswith("accounts/")
    assert group["type"] == "LOCATION_GROUP"
    assert {"role", "permissionLevel", "accountNumber"} <= set(group)

    only_groups = accounts.accounts().list(filter="type=LOCATION_GROUP").execute()
    assert [a["type"] for a in only_groups["accounts"]] == ["LOCATION_GROUP"]


def test_accounts_page_size_is_capped_at_20(server: SandboxServer) -> None:
    many = SandboxState.seeded(seed=3, accounts=25, locations=0)
    server.replace_state(many)
    headers = {"Authorization": f"Bearer {many.mint_tokens()['access_token']}"}
    url = server.url + "/accountmanagement/v1/accounts"

    first = httpx.get(url, params={"pageSize": 500}, headers=headers).json()
    second = httpx.get(url, params={"pageToken": first["nextPageToken"]}, headers=headers).json()

    assert len(first["accounts"]) == 20
    assert len(second["accounts"]) == 5
    assert "nextPageToken" not in second


def test_locations_list_honours_read_mask_and_pages(
    urls: dict[str, str], credentials: Credentials, state: SandboxState
) -> None:
    info = service(
        "mybusinessbusinessinformation", urls["google_business_information_url"], credentials
    )
    locations = info.accounts().locations()
    request = locations.list(
        parent="accounts/-", readMask="name,title,metadata,storeCode", pageSize=2
    )
    seen = []
    while request is not None:
        page = request.execute()
        seen.extend(page["locations"])
        request = locations.list_next(request, page)

    assert len(seen) == 3
    first = seen[0]
    assert set(first) == {"name", "title", "metadata", "storeCode"}
    assert first["name"].startswith("locations/")
    place_id = first["metadata"]["placeId"]
    assert first["metadata"]["newReviewUri"] == (
        f"https://search.google.com/local/writereview?placeid={place_id}"
    )
    assert first["metadata"]["mapsUri"].startswith("https://maps.google.com/")

    # One account's locations, with a nested mask path.
    account = state.locations_summary()[1]["account"]
    own = locations.list(parent=account, readMask="metadata.placeId").execute()["locations"]
    assert own and all(set(loc) == {"name", "metadata"} for loc in own)
    assert all(set(loc["metadata"]) == {"placeId"} for loc in own)


def test_missing_read_mask_is_the_field_violation_400(
    urls: dict[str, str], credentials: Credentials
) -> None:
    info = service(
        "mybusinessbusinessinformation", urls["google_business_information_url"], credentials
    )
    with pytest.raises(HttpError) as caught:
        info.accounts().locations().list(parent="accounts/-").execute()

    error = caught.value
    assert error.status_code == 400
    assert error.reason == "Request contains an invalid argument."
    assert json.loads(error.content) == {
        "error": {
            "code": 400,
            "message": "Request contains an invalid argument.",
            "errors": [
                {
                    "message": "Request contains an invalid argument.",
                    "domain": "global",
                    "reason": "badRequest",
                }
            ],
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": "read_mask", "description": "Field is required"}],
                }
            ],
        }
    }


@pytest.mark.parametrize("size", ["101", "-1", "ten"])
def test_locations_page_size_outside_1_to_100_is_invalid(api: httpx.Client, size: str) -> None:
    response = api.get(
        "/businessinformation/v1/accounts/-/locations",
        params={"readMask": "name", "pageSize": size},
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_unknown_account_and_bad_mask(api: httpx.Client) -> None:
    missing = api.get("/businessinformation/v1/accounts/42/locations", params={"readMask": "name"})
    assert missing.status_code == 404
    assert missing.json()["error"]["status"] == "NOT_FOUND"
    bad_mask = api.get(
        "/businessinformation/v1/accounts/-/locations", params={"readMask": "name,nonsense"}
    )
    assert bad_mask.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/accountmanagement/v1/accounts",
        "/businessinformation/v1/accounts/-/locations?readMask=name",
        "/mybusiness/v4/accounts/1/locations/2/reviews",
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Basic abc"])
def test_requests_without_a_valid_token_get_the_401_and_header(
    server, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(server.url + path, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == WWW_AUTHENTICATE
    assert response.json()["error"]["message"] == UNAUTHENTICATED_MESSAGE
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"


def test_token_without_business_scope_is_forbidden(server, state: SandboxState) -> None:
    token = state.mint_tokens(scopes=["openid"])["access_token"]
    response = httpx.get(
        server.url + "/accountmanagement/v1/accounts",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"


def test_unknown_query_parameters_are_ignored(api: httpx.Client) -> None:
    response = api.get(
        "/accountmanagement/v1/accounts",
        params={"alt": "json", "prettyPrint": "false", "fields": "accounts", "$.xgafv": "2"},
    )
    assert response.status_code == 200
