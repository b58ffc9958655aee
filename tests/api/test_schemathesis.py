"""Schemathesis over the corrected schema (issue 14, items 2 and 8).

Every operation (but signing in and out, which would revoke the token in use) gets
EXAMPLES generated requests as each role (requester, manager, analyst, auditor,
process admin, someone in no group) with API tokens:
no server error, and every documented answer matches its schema. Token authentication
only, so django-axes lockouts cannot interfere.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from config.authentication import token_issue
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db

EXAMPLES = 6
EXCLUDED = r"^/api/(schema/|v1/auth/)"


@pytest.fixture
def keep_connection():
    """Keep the test's transaction open across WSGI requests (as django.test.Client)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def operations():
    schema = schemathesis.openapi.from_dict(
        SchemaGenerator().get_schema(request=None, public=True)
    )
    schema.app = get_wsgi_application()
    return [
        result.ok()
        for result in schema.exclude(path_regex=EXCLUDED).get_all_operations()
    ]


def fuzz(operation, token: str, statuses: list[int]) -> None:
    @given(case=operation.as_strategy())
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call_and_validate(
            headers={"Authorization": f"Token {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )
        statuses.append(response.status_code)

    run()


@pytest.mark.parametrize(
    "username", ["requester", "manager1", "analyst", "auditor", "padmin", "outsider"]
)
def test_generated_requests_get_no_server_error_and_match_the_schema(
    users, purchase, username, keep_connection
):
    deploy(BPMN_DIR / "payment_wait.bpmn", users["analyst"])
    token = token_issue(user=users[username]).key
    found = operations()
    assert len(found) > 15
    statuses: list[int] = []
    for operation in found:
        fuzz(operation, token, statuses)
    assert max(statuses) < 500
    assert 401 not in statuses  # the token was used: answers are the role's own
    assert sum(200 <= s < 300 for s in statuses) > 20  # not only refusals
