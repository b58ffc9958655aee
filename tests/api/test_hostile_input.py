"""Hostile bodies and headers (issue 14, items 2 and 5): 4xx naming the field, not 500.

Each request goes through the real API with token authentication; each must leave the
database as it was.
"""

from urllib.parse import urlencode

import pytest
from django.test import Client
from rest_framework.test import APIClient

from engine.models import Case
from tasks_app.models import HumanTask
from tests.conftest import BPMN_DIR, PASSWORD, deploy

pytestmark = pytest.mark.django_db

PURCHASE = {"amount": 5, "justification": "Pens"}


def token_client(username: str) -> APIClient:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": username, "password": PASSWORD},
        format="json",
    )
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def post_raw(client: APIClient, path: str, body: str, **headers):
    return client.post(path, data=body, content_type="application/json", **headers)


def assert_400_naming(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["details"]["fields"], body


@pytest.fixture
def requester(users, purchase):
    return token_client("requester")


@pytest.fixture
def open_payment_task(users):
    """A case of payment_wait (no start form: any data) waiting on Finance's task."""
    deploy(BPMN_DIR / "payment_wait.bpmn", users["analyst"])
    response = token_client("requester").post(
        "/api/v1/cases/",
        {"process": "payment_wait", "data": {"order_id": "A-1"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return HumanTask.objects.get(case_id=response.json()["id"])


# --- item 2: lengths ----------------------------------------------------------------


def test_a_300_character_idempotency_key_is_400_naming_the_header(requester):
    response = requester.post(
        "/api/v1/cases/",
        {"process": "purchase_request", "data": PURCHASE},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 300,
    )
    assert_400_naming(response, "Idempotency-Key")
    assert Case.objects.count() == 0


def test_a_300_character_business_key_is_400_naming_it(requester):
    response = requester.post(
        "/api/v1/cases/",
        {"process": "purchase_request", "data": PURCHASE, "business_key": "b" * 300},
        format="json",
    )
    assert_400_naming(response, "business_key")
    assert Case.objects.count() == 0


# --- item 2: characters PostgreSQL cannot store ------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            '{"process": "purchase_request", "data": '
            '{"amount": 5, "justification": "Pe\\u0000ns"}}',
            "data.justification",
        ),
        (
            '{"process": "purchase_request", "data": '
            '{"amount": 5, "justification": "\\ud800"}}',
            "data.justification",
        ),
        (
            '{"process": "purchase_request", "data": {"amount": 5, "justification": '
            '"Pens"}, "business_key": "PO-\\ud800"}',
            "business_key",
        ),
    ],
    ids=["nul-in-value", "lone-surrogate-in-value", "lone-surrogate-in-business-key"],
)
def test_unstorable_characters_in_a_start_are_400_naming_the_field(
    requester, body, field
):
    assert_400_naming(post_raw(requester, "/api/v1/cases/", body), field)
    assert Case.objects.count() == 0


def test_nul_in_a_key_of_case_data_is_400_naming_it(users, open_payment_task):
    response = post_raw(
        token_client("requester"),
        "/api/v1/cases/",
        '{"process": "payment_wait", "data": {"order\\u0000id": "A-2"}}',
    )
    assert_400_naming(response, "data.order\\u0000id")
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"data": {"paid\\u0000": true}}', "data.paid\\u0000"),
        ('{"data": {"note": ["ok", "a\\u0000b"]}}', "data.note[1]"),
        ('{"data": {"note": "\\udfff"}}', "data.note"),
    ],
    ids=["nul-in-key", "nul-in-list-value", "lone-surrogate"],
)
def test_unstorable_task_data_is_400_naming_the_field_and_changes_nothing(
    open_payment_task, body, field
):
    case_data = Case.objects.get(pk=open_payment_task.case_id).data
    response = post_raw(
        token_client("finance"), f"/api/v1/tasks/{open_payment_task.pk}/complete/", body
    )
    assert_400_naming(response, field)
    open_payment_task.refresh_from_db()
    assert open_payment_task.status == "open"
    assert Case.objects.get(pk=open_payment_task.case_id).data == case_data


# --- item 2: nesting ----------------------------------------------------------------


@pytest.mark.parametrize("depth", [100_000, 200], ids=["100000-deep", "200-deep"])
def test_deeply_nested_json_is_400_naming_the_field(requester, depth):
    nested = "[" * depth + "]" * depth
    body = f'{{"process": "purchase_request", "data": {{"amount": {nested}}}}}'
    assert_400_naming(post_raw(requester, "/api/v1/cases/", body), "data")
    assert Case.objects.count() == 0


def test_a_deep_body_without_fields_names_the_body(requester):
    depth = 100_000
    response = post_raw(requester, "/api/v1/messages/", "[" * depth + "]" * depth)
    assert_400_naming(response, "body")


# --- item 5: idempotency ------------------------------------------------------------


def start(client, data, key):
    return client.post(
        "/api/v1/cases/",
        {"process": "purchase_request", "data": data},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_reusing_an_idempotency_key_for_a_different_request_is_422(requester):
    first = start(requester, PURCHASE, "order-7")
    assert first.status_code == 201
    other = start(requester, {**PURCHASE, "amount": 5000}, "order-7")
    assert other.status_code == 422, other.content
    assert other.json()["code"] == "idempotency_key_reused"
    assert Case.objects.count() == 1
    assert Case.objects.get().data["amount"] == 5


def test_the_same_request_with_the_same_key_still_returns_the_first_case(requester):
    first = start(requester, PURCHASE, "order-8")
    again = start(requester, dict(reversed(list(PURCHASE.items()))), "order-8")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1


def test_an_idempotency_key_belongs_to_its_user(users, requester):
    start(requester, PURCHASE, "order-9")
    other = start(token_client("requester2"), {**PURCHASE, "amount": 7}, "order-9")
    assert other.status_code == 201
    assert Case.objects.count() == 2


# --- item 2: the same, with `data` as a JSON string in form data --------------------


@pytest.mark.parametrize("form_format", ["multipart", "urlencoded"])
@pytest.mark.parametrize(
    ("data", "nested_field"),
    [
        ("[" * 100_000 + "]" * 100_000, None),
        ('{"amount": 5, "justification": "a\\u0000b"}', "justification"),
        ('{"amount": 5, "justification": "\\ud800"}', "justification"),
    ],
    ids=["100000-deep", "nul", "lone-surrogate"],
)
def test_unstorable_json_in_form_data_is_400_naming_the_field(
    requester, form_format, data, nested_field
):
    fields = {"process": "purchase_request", "data": data}
    if form_format == "multipart":
        response = requester.post("/api/v1/cases/", fields, format="multipart")
    else:
        response = requester.post(
            "/api/v1/cases/",
            urlencode(fields),
            content_type="application/x-www-form-urlencoded",
        )
    assert_400_naming(response, "data")
    if nested_field:
        assert nested_field in response.json()["details"]["fields"]["data"]
    assert Case.objects.count() == 0


# --- item 2: a NUL in the URL -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/cases/?process=a%00b", "process"),
        ("/api/v1/cases/?status=a%00b", "status"),
        ("/api/v1/tasks/?group=a%00b", "group"),
        ("/api/v1/processes/a%00b/versions/", "path"),
    ],
)
def test_a_nul_in_the_url_is_400_naming_the_parameter(requester, url, field):
    assert_400_naming(requester.get(url), field)


def test_a_nul_in_a_page_url_is_a_400_page(users):
    browser = Client()
    browser.force_login(users["requester"])
    response = browser.get("/cases/?status=a%00b")
    assert response.status_code == 400
    assert b"Must not contain NUL" in response.content
