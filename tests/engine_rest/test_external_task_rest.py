"""Camunda 7's external-task REST API, request by request, as a worker sends it.

The published clients run in test_camunda_clients.py; these pin the shapes, the
error answers and the lock rules (issue 9, must work 3).
"""

import base64
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEvent
from engine.models import Case, Incident, ServiceCall
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload
from tests.clients import api_for
from tests.conftest import BPMN_DIR, PASSWORD, deploy

BASE = "/engine-rest/external-task"
JAVA_SERIALIZED = "application/x-java-serialized-object"


@pytest.fixture
def worker(users):
    """An integration account: group `integrations` (engine.work_external_tasks)."""
    user = get_user_model().objects.create_user("erp", "erp@example.com", PASSWORD)
    user.groups.add(Group.objects.get(name="integrations"))
    return user


@pytest.fixture
def credit(users):
    return deploy(BPMN_DIR / "external_credit.bpmn", users["analyst"])


def basic(username: str, password: str = PASSWORD) -> APIClient:
    client = APIClient()
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def start(users, **data) -> Case:
    case, _ = case_start(user=users["requester"], key="external_credit", data=data)
    return case


def fetch(client, worker_id="w1", lock=10_000, variables=None, **extra):
    topic = {"topicName": "credit-check", "lockDuration": lock}
    if variables is not None:
        topic["variables"] = variables
    body = {"workerId": worker_id, "maxTasks": 5, "topics": [topic], **extra}
    response = client.post(f"{BASE}/fetchAndLock", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_topic_without_operation_deploys_as_an_external_task_with_a_notice(users):
    [deployed] = version_upload(
        user=users["analyst"],
        bpmn=(BPMN_DIR / "external_credit.bpmn").read_bytes(),
        filename="external_credit.bpmn",
    )
    [notice] = [
        w for w in deployed.version.warnings if w["element_id"] == "credit_check"
    ]
    assert "waits for an external worker" in notice["message"]
    assert "credit-check" in notice["message"]
    assert notice["line"] == 11
    answer = api_for(users["analyst"]).get(
        "/api/v1/processes/external_credit/versions/"
    )
    [listed] = answer.json()["results"]
    assert any("external worker" in w["message"] for w in listed["warnings"])


def test_an_expression_with_no_operation_is_still_refused(users):
    xml = (BPMN_DIR / "external_credit.bpmn").read_text()
    xml = xml.replace(
        'camunda:type="external" camunda:topic="credit-check"',
        'camunda:expression="${creditService.check(execution)}"',
    )
    with pytest.raises(BpmnInvalid) as refused:
        version_upload(user=users["analyst"], bpmn=xml.encode(), filename="x.bpmn")
    [error] = refused.value.details["errors"]
    assert error["element_id"] == "credit_check"
    assert "not registered" in error["message"]


def test_fetch_answers_camunda_shapes_and_complete_routes_the_gateway(
    users, worker, credit
):
    case = start(users, amount=1200, customer={"name": "Ada"})
    client = basic("erp")
    [task] = fetch(client)
    assert task["topicName"] == "credit-check"
    assert task["workerId"] == "w1"
    assert task["processInstanceId"] == str(case.pk)
    assert task["activityId"] == "credit_check"
    assert task["processDefinitionKey"] == "external_credit"
    assert task["retries"] is None
    assert task["lockExpirationTime"].endswith("+0000")
    assert task["variables"]["amount"] == {
        "type": "Integer",
        "value": 1200,
        "valueInfo": {},
    }
    assert task["variables"]["customer"]["type"] == "Json"
    assert task["variables"]["customer"]["value"] == '{"name": "Ada"}'
    # Nothing else to fetch while it is locked.
    assert fetch(client, worker_id="w2") == []

    done = client.post(
        f"{BASE}/{task['id']}/complete",
        {
            "workerId": "w1",
            "variables": {
                "approved": {"value": True, "type": "Boolean"},
                "score": {"value": "7", "type": "Integer"},
                "limits": {"value": '{"max": 5000}', "type": "Json"},
            },
        },
        format="json",
    )
    assert done.status_code == 204, done.content
    case.refresh_from_db()
    assert case.data["approved"] is True
    assert case.data["score"] == 7
    assert case.data["limits"] == {"max": 5000}
    assert case.active_elements == ["ship"]
    actions = list(
        AuditEvent.objects.filter(case_id=case.pk, action__startswith="service.")
        .order_by("chain_seq")
        .values_list("action", "actor_repr")
    )
    assert [a for a, _ in actions] == [
        "service.queued",
        "service.started",
        "service.succeeded",
    ]
    assert actions[1][1] == actions[2][1] == "erp"

    again = client.post(
        f"{BASE}/{task['id']}/complete", {"workerId": "w1"}, format="json"
    )
    assert again.status_code == 404
    assert again.json()["type"] == "RestException"
    case.refresh_from_db()
    assert case.active_elements == ["ship"]


def test_only_the_requested_variables_are_fetched(users, worker, credit):
    start(users, amount=10, secret_note="no")
    [task] = fetch(basic("erp"), variables=["amount", "missing"])
    assert task["variables"] == {
        "amount": {"type": "Integer", "value": 10, "valueInfo": {}}
    }


def test_wrong_worker_unknown_id_and_bad_input_answer_camunda_errors(
    users, worker, credit
):
    start(users, amount=1)
    client = basic("erp")
    [task] = fetch(client)
    wrong = client.post(
        f"{BASE}/{task['id']}/complete", {"workerId": "intruder"}, format="json"
    )
    assert wrong.status_code == 400
    assert wrong.json()["type"] == "RestException"
    assert "locked by worker 'w1'" in wrong.json()["message"]
    for path in (f"{BASE}/999999/complete", f"{BASE}/not-a-number/complete"):
        missing = client.post(path, {"workerId": "w1"}, format="json")
        assert missing.status_code == 404
        assert missing.json() == {
            "type": "RestException",
            "message": f"External task with id {path.split('/')[-2]} does not exist",
        }
    bad = client.post(
        f"{BASE}/{task['id']}/complete",
        {"workerId": "w1", "variables": {"x": {"value": "AAE=", "type": "Bytes"}}},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["type"] == "InvalidRequestException"
    assert "'x'" in bad.json()["message"]
    no_topic = client.post(
        f"{BASE}/fetchAndLock",
        {"workerId": "w1", "topics": [{"lockDuration": 10}]},
        format="json",
    )
    assert no_topic.status_code == 400
    assert no_topic.json()["type"] == "InvalidRequestException"
    assert "topicName" in no_topic.json()["message"]
    # Nothing changed: the task is still locked by w1 and completes.
    ok = client.post(f"{BASE}/{task['id']}/complete", {"workerId": "w1"}, format="json")
    assert ok.status_code == 204


def test_anonymous_wrong_password_and_missing_permission_are_refused(
    users, worker, credit
):
    anonymous = APIClient().post(f"{BASE}/fetchAndLock", {}, format="json")
    assert anonymous.status_code == 401
    assert anonymous.json()["type"] == "AuthenticationException"
    assert anonymous["WWW-Authenticate"].startswith("Basic")
    wrong = basic("erp", "nope").post(f"{BASE}/fetchAndLock", {}, format="json")
    assert wrong.status_code == 401
    forbidden = basic("requester").post(
        f"{BASE}/fetchAndLock",
        {"workerId": "w", "topics": [{"topicName": "credit-check", "lockDuration": 1}]},
        format="json",
    )
    assert forbidden.status_code == 403
    assert forbidden.json()["type"] == "AuthorizationException"
    assert api_for(users["requester"]).get(BASE).status_code == 403
    token = api_for(worker)
    assert token.get(BASE).status_code == 200
    bearer = APIClient()
    bearer.credentials(
        HTTP_AUTHORIZATION="Bearer "
        + token._credentials["HTTP_AUTHORIZATION"].split()[1]
    )
    assert bearer.get(BASE).status_code == 200


def test_fetch_filters_by_business_key_process_and_variable_values(
    users, worker, credit
):
    first, _ = case_start(
        user=users["requester"],
        key="external_credit",
        data={"region": "north"},
        business_key="PO-1",
    )
    start(users, region="south")
    client = basic("erp")

    def topic(**filters):
        body = {
            "workerId": "w",
            "maxTasks": 5,
            "topics": [{"topicName": "credit-check", "lockDuration": 1, **filters}],
        }
        answer = client.post(f"{BASE}/fetchAndLock", body, format="json")
        assert answer.status_code == 200, answer.content
        return [t["processInstanceId"] for t in answer.json()]

    assert topic(businessKey="PO-2") == []
    assert topic(processDefinitionKeyIn=["other"]) == []
    north = {"region": {"value": "north", "type": "String"}}
    assert topic(processVariables=north) == [str(first.pk)]


def test_basic_auth_failures_lock_the_account_out_like_the_login(
    users, worker, settings
):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        basic("erp", "guess").get(BASE)
    locked = basic("erp").get(BASE)  # even the right password, now
    assert locked.status_code == 429
    assert locked.json()["type"] == "RestException"
    assert "Too many failed sign-ins" in locked.json()["message"]


def test_failure_with_retries_waits_then_refetches_and_zero_opens_an_incident(
    users, worker, credit
):
    case = start(users, amount=1)
    client = basic("erp")
    [task] = fetch(client)
    failed = client.post(
        f"{BASE}/{task['id']}/failure",
        {
            "workerId": "w1",
            "errorMessage": "ERP down",
            "errorDetails": "stack...",
            "retries": 1,
            "retryTimeout": 300,
        },
        format="json",
    )
    assert failed.status_code == 204
    assert fetch(client) == []  # not before the retry timeout
    time.sleep(0.5)
    [again] = fetch(client, worker_id="w2")
    assert again["id"] == task["id"] and again["retries"] == 1
    assert again["errorMessage"] == "ERP down"
    last = client.post(
        f"{BASE}/{task['id']}/failure",
        {"workerId": "w2", "errorMessage": "still down", "retries": 0},
        format="json",
    )
    assert last.status_code == 204
    assert fetch(client) == []
    incidents = api_for(users["padmin"]).get("/api/v1/incidents/").json()["results"]
    [incident] = [i for i in incidents if i["case"] == str(case.pk)]
    assert incident["element"] == "credit_check"
    assert "still down" in incident["message"]
    listed = client.get(BASE, {"noRetriesLeft": "true"}).json()
    assert [t["id"] for t in listed] == [task["id"]] and listed[0]["retries"] == 0

    # A process admin's retry makes it fetchable again; completing resolves it.
    retried = api_for(users["padmin"]).post(
        f"/api/v1/incidents/{incident['id']}/retry/"
    )
    assert retried.status_code == 200, retried.content
    [third] = fetch(client)
    done = client.post(
        f"{BASE}/{third['id']}/complete",
        {"workerId": "w1", "variables": {"approved": {"value": False}}},
        format="json",
    )
    assert done.status_code == 204
    assert Incident.objects.get(pk=incident["id"]).status == "resolved"
    case.refresh_from_db()
    assert case.active_elements == ["review"]


def test_bpmn_error_is_caught_by_the_boundary_event_with_its_variables(
    users, worker, credit
):
    case = start(users, amount=99)
    client = basic("erp")
    [task] = fetch(client)
    thrown = client.post(
        f"{BASE}/{task['id']}/bpmnError",
        {
            "workerId": "w1",
            "errorCode": "CREDIT_REFUSED",
            "errorMessage": "blacklisted",
            "variables": {"reason": {"value": "blacklist", "type": "String"}},
        },
        format="json",
    )
    assert thrown.status_code == 204, thrown.content
    case.refresh_from_db()
    assert case.active_elements == ["handle_refusal"]
    assert case.data["reason"] == "blacklist"


def test_an_uncaught_bpmn_error_ends_the_path_and_is_audited(users, worker, credit):
    # Camunda 7: BpmnExceptionHandler.propagateError, no handler -> execution.end(true)
    # (ExternalTaskServiceTest#testHandleBpmnErrorWithoutDefinedBoundary).
    from engine.selectors import case_timeline

    case = start(users, amount=99)
    client = basic("erp")
    [task] = fetch(client)
    thrown = client.post(
        f"{BASE}/{task['id']}/bpmnError",
        {"workerId": "w1", "errorCode": "NOBODY_CATCHES", "errorMessage": "no"},
        format="json",
    )
    assert thrown.status_code == 204
    assert not Incident.objects.filter(case=case).exists()
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED and case.active_elements == []
    [event] = AuditEvent.objects.filter(case_id=case.pk, action="error.uncaught")
    assert event.task_ref == "credit_check"
    assert event.payload["code"] == "NOBODY_CATCHES"
    assert event.payload["message"] == "no"
    [entry] = [e for e in case_timeline(case=case) if e.action == "error.uncaught"]
    assert entry.element == "Credit check"
    assert entry.details["code"] == "NOBODY_CATCHES"


def test_an_expired_lock_makes_the_task_fetchable_by_another_worker(
    users, worker, credit
):
    start(users, amount=5)
    client = basic("erp")
    [task] = fetch(client, worker_id="slow", lock=1)
    time.sleep(0.05)
    extend = client.post(
        f"{BASE}/{task['id']}/extendLock",
        {"workerId": "slow", "newDuration": 10_000},
        format="json",
    )
    assert extend.status_code == 400
    assert "expired" in extend.json()["message"]
    [again] = fetch(client, worker_id="fast")
    assert again["id"] == task["id"] and again["workerId"] == "fast"
    late = client.post(
        f"{BASE}/{task['id']}/complete", {"workerId": "slow"}, format="json"
    )
    assert late.status_code == 400
    call = ServiceCall.objects.get(pk=task["id"])
    assert call.attempts == 2
    started = AuditEvent.objects.filter(action="service.started", case_id=call.case_id)
    assert started.count() == 2


def test_extend_lock_unlock_list_and_count(users, worker, credit):
    case = start(users, amount=5)
    client = basic("erp")
    [task] = fetch(client, lock=5_000)
    extended = client.post(
        f"{BASE}/{task['id']}/extendLock",
        {"workerId": "w1", "newDuration": 600_000},
        format="json",
    )
    assert extended.status_code == 204
    call = ServiceCall.objects.get(pk=task["id"])
    assert call.lock_expires_at > timezone.now() + timedelta(seconds=500)
    assert client.get(BASE, {"locked": "true"}).json()[0]["id"] == task["id"]
    assert client.get(BASE, {"notLocked": "true"}).json() == []
    assert client.get(f"{BASE}/count", {"workerId": "w1"}).json() == {"count": 1}
    detail = client.get(f"{BASE}/{task['id']}").json()
    assert detail["processInstanceId"] == str(case.pk)
    assert detail["activityId"] == "credit_check"

    assert client.post(f"{BASE}/{task['id']}/unlock").status_code == 204
    assert client.get(BASE, {"notLocked": "true"}).json()[0]["workerId"] is None
    assert client.get(BASE, {"topicName": "other"}).json() == []
    assert client.get(BASE, {"processInstanceId": str(case.pk)}).json()
    [refetched] = fetch(client, worker_id="w2")
    assert refetched["id"] == task["id"]
    assert client.get(f"{BASE}/424242").status_code == 404


def test_the_list_reads_its_parameters_ignores_unknown_ones_refuses_unapplied_ones(
    users, worker, credit
):
    """Camunda 7's ExternalTaskQueryDto binds the parameters it has a setter for
    and ignores the rest; a bad value of one it reads is a 400
    (InvalidRequestException). Its filters and sorting Laneway does not apply
    are a 400 too: ignored, the answer would hold more tasks than asked for."""
    case = start(users, amount=5)
    client = basic("erp")
    extra = {"_": "1733090000000", "foo": "bar"}
    for path in (BASE, f"{BASE}/count"):
        mine = client.get(path, {**extra, "processInstanceId": str(case.pk)})
        assert mine.status_code == 200, mine.content
        other = client.get(path, {**extra, "topicName": "other"})
        assert other.json() in ([], {"count": 0})
        for query in (
            {"maxResults": "abc"},
            {"locked": "maybe"},
            {"processInstanceId": "x"},
        ):
            bad = client.get(path, query)
            assert bad.status_code == 400, (path, query, bad.content)
            assert bad.json()["type"] == "InvalidRequestException"
            assert next(iter(query)) in bad.json()["message"]
        for query in (
            {"processDefinitionId": "x"},
            {"suspended": "true"},
            {"sortBy": "id", "sortOrder": "asc"},
        ):
            unapplied = client.get(path, query)
            assert unapplied.status_code == 400, (path, query)
            assert next(iter(query)) in unapplied.json()["message"]
    assert len(client.get(BASE, extra).json()) == 1
    assert client.get(f"{BASE}/count", extra).json() == {"count": 1}


def test_a_cancelled_case_takes_its_external_task_with_it(users, worker, credit):
    case = start(users, amount=5)
    client = basic("erp")
    [task] = fetch(client)
    assert api_for(users["requester"]).post(
        f"/api/v1/cases/{case.pk}/cancel/"
    ).status_code in (200, 204)
    assert client.get(BASE).json() == []
    late = client.post(
        f"{BASE}/{task['id']}/complete", {"workerId": "w1"}, format="json"
    )
    assert late.status_code == 404
    case.refresh_from_db()
    assert case.status == "cancelled"


def test_every_camunda_value_type_becomes_json_or_is_refused_by_name(
    users, worker, credit
):
    case = start(users, amount=1)
    client = basic("erp")
    [task] = fetch(client)
    refused = client.post(
        f"{BASE}/{task['id']}/complete",
        {
            "workerId": "w1",
            "variables": {
                "pojo": {
                    "value": "rO0AB",
                    "type": "Object",
                    "valueInfo": {
                        "objectTypeName": "com.acme.Order",
                        "serializationDataFormat": JAVA_SERIALIZED,
                    },
                }
            },
        },
        format="json",
    )
    assert refused.status_code == 400 and "'pojo'" in refused.json()["message"]
    # Camunda 7's REST API converts each value to its Java type and refuses
    # what does not convert: a Date not in yyyy-MM-dd'T'HH:mm:ss.SSSZ, an
    # Integer or a Short out of its range (they were stored as given).
    for name, bad in (
        ("when", {"value": "next Tuesday", "type": "Date"}),
        ("day", {"value": "2026-01-31", "type": "Date"}),
        ("count", {"value": 2**31, "type": "Integer"}),
        ("small", {"value": "40000", "type": "Short"}),
    ):
        wrong = client.post(
            f"{BASE}/{task['id']}/complete",
            {"workerId": "w1", "variables": {name: bad}},
            format="json",
        )
        assert wrong.status_code == 400, (name, wrong.content)
        assert f"'{name}'" in wrong.json()["message"]
    typed = {
        "big": {"value": 2**40, "type": "Long"},
        "int_max": {"value": 2**31 - 1, "type": "Integer"},
        "short_min": {"value": "-32768", "type": "Short"},
        "rate": {"value": 1.5, "type": "Double"},
        "due": {"value": "2026-01-31T12:00:00.000+0100", "type": "Date"},
        "order": {
            "value": '{"id": 7}',
            "type": "Object",
            "valueInfo": {"serializationDataFormat": "application/json"},
        },
        "nothing": {"value": None, "type": "Null"},
        "untyped": {"value": [1, 2]},
        "approved": {"value": "true", "type": "Boolean"},
    }
    done = client.post(
        f"{BASE}/{task['id']}/complete",
        {"workerId": "w1", "variables": typed},
        format="json",
    )
    assert done.status_code == 204, done.content
    case.refresh_from_db()
    assert {k: case.data[k] for k in typed} == {
        "big": 2**40,
        "int_max": 2**31 - 1,
        "short_min": -32768,
        "rate": 1.5,
        "due": "2026-01-31T12:00:00.000+0100",
        "order": {"id": 7},
        "nothing": None,
        "untyped": [1, 2],
        "approved": True,
    }
    assert case.active_elements == ["ship"]


def test_a_task_with_input_parameters_hands_the_worker_those(users, worker):
    xml = (BPMN_DIR / "external_credit.bpmn").read_text()
    xml = xml.replace(
        "<bpmn:incoming>f1</bpmn:incoming>\n      <bpmn:outgoing>f2</bpmn:outgoing>",
        "<bpmn:extensionElements><camunda:inputOutput>"
        '<camunda:inputParameter name="limit">${amount * 2}</camunda:inputParameter>'
        "</camunda:inputOutput></bpmn:extensionElements>"
        "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>",
    )
    assert "inputParameter" in xml
    version_upload(user=users["analyst"], bpmn=xml.encode(), filename="in.bpmn")
    start(users, amount=21, other="x")
    [task] = fetch(basic("erp"))
    assert task["variables"] == {
        "limit": {"type": "Integer", "value": 42, "valueInfo": {}}
    }


def test_a_failed_task_is_listed_until_its_incident_is_skipped(users, worker, credit):
    case = start(users, amount=1)
    client = basic("erp")
    [task] = fetch(client)
    client.post(
        f"{BASE}/{task['id']}/failure",
        {"workerId": "w1", "errorMessage": "gone", "retries": 0},
        format="json",
    )
    assert client.get(f"{BASE}/count", {"noRetriesLeft": "true"}).json() == {"count": 1}
    [incident] = Incident.objects.filter(case=case)
    skipped = api_for(users["padmin"]).post(
        f"/api/v1/incidents/{incident.pk}/skip/",
        {"data": {"approved": True}},
        format="json",
    )
    assert skipped.status_code == 200, skipped.content
    assert client.get(BASE).json() == []
    case.refresh_from_db()
    assert case.active_elements == ["ship"]


def test_lock_by_id_and_error_details(users, worker, credit):
    start(users, amount=1)
    client = basic("erp")
    [task] = client.get(BASE).json()
    lock = f"{BASE}/{task['id']}/lock"
    assert (
        client.post(lock, {"workerId": "a", "lockDuration": 60_000}, format="json")
    ).status_code == 204
    taken = client.post(lock, {"workerId": "b", "lockDuration": 1}, format="json")
    assert (
        taken.status_code == 400 and "locked by worker 'a'" in taken.json()["message"]
    )
    assert fetch(client, worker_id="b") == []
    failed = client.post(
        f"{BASE}/{task['id']}/failure",
        {
            "workerId": "a",
            "errorMessage": "boom",
            "errorDetails": "Traceback: line 1",
            "retries": 2,
            "retryTimeout": 60_000,
        },
        format="json",
    )
    assert failed.status_code == 204
    details = client.get(f"{BASE}/{task['id']}/errorDetails")
    assert details.status_code == 200
    assert details.content.decode() == "Traceback: line 1"
    assert details["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "fetchAndLock",
            {"workerId": "w", "topics": [{"topicName": "t", "lockDuration": 10**18}]},
        ),
        ("fetchAndLock", {"workerId": "w", "maxTasks": "many", "topics": []}),
        ("fetchAndLock", {"workerId": "w", "topics": "credit-check"}),
        ("fetchAndLock", {"workerId": "w", "topics": [], "asyncResponseTimeout": -1}),
        ("1/failure", {"workerId": "w", "retries": 2**40}),
        ("1/failure", {"workerId": "w", "retries": 1, "retryTimeout": 10**18}),
        (  # Camunda 7 would set them; Laneway refuses rather than drop them
            "1/failure",
            {"workerId": "w", "retries": 1, "variables": {"x": {"value": 1}}},
        ),
        (
            "1/failure",
            {"workerId": "w", "retries": 1, "localVariables": {"x": {"value": 1}}},
        ),
        ("1/complete", {"workerId": "w", "localVariables": ["not", "a", "map"]}),
        ("1/extendLock", {"workerId": "w", "newDuration": 0}),
        ("1/complete", {"workerId": "w", "variables": ["not", "a", "map"]}),
        (
            "1/complete",
            {"workerId": "w", "variables": {"x": {"value": "{", "type": "Json"}}},
        ),
        ("1/bpmnError", {"workerId": "w"}),
    ],
)
def test_bad_input_is_a_400_naming_the_problem(users, worker, path, body):
    answer = basic("erp").post(f"{BASE}/{path}", body, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json()["type"] == "InvalidRequestException"
    assert answer.json()["message"]


@pytest.mark.parametrize(
    "task_id", ["99999999999999999999999", "-1", "0", "1e3", "%00"]
)
def test_hostile_task_ids_are_not_found(users, worker, task_id):
    client = basic("erp")
    assert client.get(f"{BASE}/{task_id}").status_code in (400, 404)
    answer = client.post(f"{BASE}/{task_id}/complete", {"workerId": "w"}, format="json")
    assert answer.status_code in (400, 404)
    assert client.get(BASE, {"externalTaskId": task_id}).status_code in (200, 400)
