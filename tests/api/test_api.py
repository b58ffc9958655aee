"""The JSON API as ARCHITECTURE §10 specifies it.

Token auth, UUIDs, pagination, errors.
"""

import json
import urllib.error
import urllib.request
import uuid

import pytest
from rest_framework.test import APIClient

from engine.models import Case
from tests.clients import signed_in_api
from tests.conftest import EXAMPLES, PASSWORD

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    return signed_in_api(user, PASSWORD)


def start(client, data=None, **extra):
    body = {
        "process": "purchase_request",
        "data": data or {"amount": 99.5, "justification": "Desk"},
    }
    return client.post("/api/v1/cases/", body, format="json", **extra)


def test_token_endpoint_accepts_json_and_form_and_rejects_bad_credentials(users):
    api = APIClient()
    ok = api.post(
        "/api/v1/auth/token/", {"username": "requester", "password": PASSWORD}
    )
    assert ok.status_code == 200 and len(ok.json()["token"]) == 40
    bad = api.post(
        "/api/v1/auth/token/",
        {"username": "requester", "password": "nope"},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"


def test_anonymous_calls_get_401_in_the_error_shape(db):
    response = APIClient().get("/api/v1/cases/")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}


def test_start_case_returns_201_with_uuid_and_open_tasks(users, purchase):
    response = start(client_for(users["requester"]))
    assert response.status_code == 201
    body = response.json()
    uuid.UUID(body["id"])
    assert body["status"] == "running" and body["process"] == "purchase_request"
    assert body["version"] == 1
    assert body["data"] == {"amount": 99.5, "justification": "Desk"}
    # The requester sees what the case waits for, but may not open the manager's task.
    assert [t["bpmn_id"] for t in body["tasks"]] == ["manager_review"]
    task_id = body["tasks"][0]["id"]
    assert (
        client_for(users["requester"]).get(f"/api/v1/tasks/{task_id}/").status_code
        == 404
    )


def test_start_with_invalid_data_is_400_per_field_and_starts_nothing(users, purchase):
    response = start(client_for(users["requester"]), data={"amount": "lots"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["details"]["fields"]) == {"amount", "justification"}
    assert Case.objects.count() == 0


def test_idempotency_key_never_starts_a_second_case(users, purchase):
    client = client_for(users["requester"])
    first = start(client, HTTP_IDEMPOTENCY_KEY="abc-1")
    again = start(client, HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert Case.objects.count() == 1


def test_inbox_claim_conflict_and_outsider_404(users, purchase):
    start(client_for(users["requester"]))
    m1, m2 = client_for(users["manager1"]), client_for(users["manager2"])
    inbox = m1.get("/api/v1/tasks/").json()
    assert inbox["count"] == 1 and set(inbox) == {
        "count",
        "next",
        "previous",
        "results",
    }
    task = inbox["results"][0]
    assert task["bpmn_id"] == "manager_review" and task["lane"] == "Manager"
    detail = m2.get(f"/api/v1/tasks/{task['id']}/").json()
    assert [f["id"] for f in detail["form"]] == ["approved", "comment"]
    assert m1.post(f"/api/v1/tasks/{task['id']}/claim/").status_code == 200
    assert m2.get("/api/v1/tasks/").json()["count"] == 0
    conflict = m2.post(
        f"/api/v1/tasks/{task['id']}/complete/",
        {"data": {"approved": True}},
        format="json",
    )
    assert (
        conflict.status_code == 409
        and conflict.json()["code"] == "task_already_claimed"
    )
    outsider = client_for(users["outsider"])
    assert outsider.get(f"/api/v1/tasks/{task['id']}/").status_code == 404
    assert (
        outsider.post(
            f"/api/v1/tasks/{task['id']}/complete/",
            {"data": {"approved": True}},
            format="json",
        ).status_code
        == 404
    )


def test_only_analysts_deploy_and_identical_upload_returns_200(users, purchase):
    xml = (EXAMPLES / "purchase_request.bpmn").read_bytes()
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(client, content):
        return client.post(
            "/api/v1/processes/",
            {"file": SimpleUploadedFile("p.bpmn", content)},
            format="multipart",
        )

    assert upload(client_for(users["manager1"]), xml).status_code == 403
    same = upload(client_for(users["analyst"]), xml)
    assert same.status_code == 200
    assert same.json()["processes"][0]["version"] == 1
    changed = upload(
        client_for(users["analyst"]), xml.replace(b"Check the budget", b"Check it")
    )
    assert changed.status_code == 201
    assert changed.json()["processes"][0] == {
        **changed.json()["processes"][0],
        "key": "purchase_request",
        "version": 2,
        "created": True,
    }
    bad = upload(client_for(users["analyst"]), b"<bpmn:definitions")
    assert bad.status_code == 400
    assert bad.json()["code"] == "bpmn_invalid"
    assert set(bad.json()["details"]["errors"][0]) == {"message", "line", "element_id"}
    versions = client_for(users["analyst"]).get(
        "/api/v1/processes/purchase_request/versions/"
    )
    assert [v["version"] for v in versions.json()["results"]] == [2, 1]


@pytest.mark.django_db(transaction=True)
def test_whole_journey_over_real_http(live_server, users, purchase):
    def call(method, path, token=None, body=None):
        request = urllib.request.Request(
            live_server.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Token {token}"} if token else {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    tokens = {
        name: call(
            "POST", "/api/v1/auth/token/", body={"username": name, "password": PASSWORD}
        )[1]["token"]
        for name in ("requester", "manager1", "finance")
    }

    def complete_first(user, data):
        status, inbox = call("GET", "/api/v1/tasks/", tokens[user])
        task = inbox["results"][0]
        return call(
            "POST",
            f"/api/v1/tasks/{task['id']}/complete/",
            tokens[user],
            {"data": data},
        )

    status, case = call(
        "POST",
        "/api/v1/cases/",
        tokens["requester"],
        {
            "process": "purchase_request",
            "data": {"amount": 1200, "justification": "Monitor"},
        },
    )
    assert status == 201
    assert (
        complete_first("manager1", {"approved": False, "comment": "Cheaper?"})[0] == 200
    )
    assert (
        complete_first(
            "requester", {"amount": 900, "justification": "Cheaper monitor"}
        )[0]
        == 200
    )
    assert complete_first("manager1", {"approved": True})[0] == 200
    assert complete_first("finance", {"finance_approved": True})[0] == 200
    status, final = call("GET", f"/api/v1/cases/{case['id']}/", tokens["requester"])
    assert status == 200
    assert final["status"] == "completed" and final["data"]["amount"] == 900
    assert call("GET", "/api/v1/cases/", None)[0] == 401


def test_failed_condition_becomes_an_incident_shown_by_case_and_incident_apis(users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    xml = (
        (EXAMPLES / "purchase_request.bpmn")
        .read_bytes()
        .replace(
            b"approved == True</bpmn:conditionExpression>",
            b"approved == missing_variable</bpmn:conditionExpression>",
            1,
        )
    )
    analyst = client_for(users["analyst"])
    assert (
        analyst.post(
            "/api/v1/processes/",
            {"file": SimpleUploadedFile("p.bpmn", xml)},
            format="multipart",
        ).status_code
        == 201
    )
    case_id = start(client_for(users["requester"])).json()["id"]
    manager = client_for(users["manager1"])
    task = manager.get("/api/v1/tasks/").json()["results"][0]
    assert (
        manager.post(
            f"/api/v1/tasks/{task['id']}/complete/",
            {"data": {"approved": True}},
            format="json",
        ).status_code
        == 200
    )
    case = client_for(users["requester"]).get(f"/api/v1/cases/{case_id}/").json()
    assert case["has_incident"] is True and case["status"] == "running"
    incident = case["incidents"][0]
    assert (
        incident["element"] == "gw_manager"
        and "missing_variable" in incident["message"]
    )
    listed = client_for(users["requester"]).get("/api/v1/incidents/").json()
    assert [i["id"] for i in listed["results"]] == [incident["id"]]
    assert client_for(users["finance"]).get("/api/v1/incidents/").json()["count"] == 0


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(users, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PROCESSES_UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.bpmn", b"<x/>" + b" " * 4096)
    response = client_for(users["analyst"]).post(
        "/api/v1/processes/", {"file": big}, format="multipart"
    )
    assert response.status_code == 400
    assert (
        "larger than the 1 KiB upload limit"
        in response.json()["details"]["errors"][0]["message"]
    )
    big.seek(0)
    assert (
        client_for(users["requester"])
        .post("/api/v1/processes/", {"file": big}, format="multipart")
        .status_code
        == 403
    )
