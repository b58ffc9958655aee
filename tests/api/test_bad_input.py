"""Bad input never gets a 500: malformed requests answer 4xx in the error shape."""

import pytest
from rest_framework.test import APIClient

from engine.services import case_start
from tasks_app.models import HumanTask

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(users, purchase):
    client = APIClient()
    client.force_authenticate(users["manager1"])
    case, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 5, "justification": "Pens"},
    )
    return client, HumanTask.objects.get(case=case).pk


BODIES = [
    ("post", "/api/v1/cases/", "not json", "application/json"),
    ("post", "/api/v1/cases/", '{"process": 5, "data": []}', "application/json"),
    ("post", "/api/v1/cases/", '{"process": "nope"}', "application/json"),
    (
        "post",
        "/api/v1/cases/",
        '{"process": "purchase_request", "data": "x"}',
        "application/json",
    ),
    ("post", "/api/v1/cases/", '{"data": {"amount": 1e999}}', "application/json"),
    ("post", "/api/v1/messages/", '{"name": []}', "application/json"),
    ("post", "/api/v1/messages/", "[1, 2]", "application/json"),
    ("get", "/api/v1/cases/not-a-uuid/", None, None),
    ("get", "/api/v1/tasks/?case=not-a-uuid", None, None),
    ("get", "/api/v1/audit/?since=yesterday", None, None),
    ("get", "/api/v1/processes/nope/versions/", None, None),
    ("post", "/api/v1/processes/", "", "application/json"),
]


@pytest.mark.parametrize(("method", "path", "body", "content_type"), BODIES)
def test_malformed_requests_get_a_4xx_error_shape(
    api, method, path, body, content_type
):
    client, _ = api
    kwargs = {"data": body, "content_type": content_type} if body is not None else {}
    response = getattr(client, method)(path, **kwargs)
    assert 400 <= response.status_code < 500, response.content
    assert {"code", "message", "details"} <= set(response.json())


@pytest.mark.parametrize(
    "data",
    [
        '{"data": {"approved": "perhaps"}}',
        '{"data": {"approved": true, "comment": {"nested": 1}}}',
        '{"data": {"approved": true, "unknown": 1}}',
        '{"data": [true]}',
        '{"data": {"approved": null}}',
    ],
)
def test_bad_task_data_is_400_per_field_and_changes_nothing(api, data):
    client, task_id = api
    response = client.post(
        f"/api/v1/tasks/{task_id}/complete/", data=data, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert HumanTask.objects.get(pk=task_id).status == "open"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/cases/", {"process": "purchase_request", "data": [1]}, "data"),
        ("/api/v1/tasks/{task}/complete/", {"data": [1]}, "data"),
        ("/api/v1/signals/", {"name": "go", "data": "x"}, "data"),
        ("/api/v1/messages/", {"name": "m", "data": [1]}, "data"),
        ("/api/v1/messages/", {"name": "m", "correlation": [1]}, "correlation"),
        (
            "/api/v1/executions/00000000-0000-0000-0000-000000000001/signal/",
            {"data": [1]},
            "data",
        ),
        (
            "/api/v1/incidents/00000000-0000-0000-0000-000000000001/skip/",
            {"data": [1]},
            "data",
        ),
    ],
)
def test_a_json_field_that_must_be_an_object_is_refused_alike(
    api, users, path, body, field
):
    """Every endpoint taking case variables as a JSON object answers a list or
    a text there with the same 400, before looking anything up."""
    client, task_id = api
    client.force_authenticate(users["padmin"])
    response = client.post(path.format(task=task_id), body, format="json")
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["message"] == f"'{field}' must be a JSON object."
    assert answer["details"] == {"fields": {}}
