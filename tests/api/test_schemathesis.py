"""Property-based checks of the whole API from its own OpenAPI document (schemathesis): whatever
the input, no 500 and no response outside what the document promises."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from api.app import create_app
from models import Role
from tests.api.conftest import Person

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
# What the contract promises: no server error, and every answer in a documented status, content
# type and schema. (Acceptance of every schema-valid input is not promised: some rules, such as
# an e-mail address's shape or a blank name, are checked beyond what JSON Schema says.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def member_headers(make_person: Callable[..., Person]) -> dict[str, str]:
    return make_person(Role.OWNER).headers


@schema.parametrize()
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_honours_its_openapi_document(case, member_headers: dict[str, str]):
    case.call_and_validate(headers=member_headers, checks=CHECKS)
