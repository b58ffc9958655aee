"""Reading the executions waiting at a receive task without a message: Camunda 7's
ExecutionRestService.getExecutions / getExecutionsCount and
ExecutionResource.getExecution (GET /engine-rest/execution, /execution/count,
/execution/{id}), and the `receive_waits` of GET /api/v1/cases/{id}/, as whoever
may read the case: who may not gets nothing, or 404."""

import base64

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from cockpit.services import case_resume, case_suspend
from engine.models import ReceiveWait
from tests.clients import signed_in_api
from tests.conftest import PASSWORD, deploy
from tests.engine.test_receive_waits import DIAGRAM

pytestmark = pytest.mark.django_db


def _engine_rest(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


@pytest.fixture
def started(users):
    """The requester starts the case through the API; its answer and execution."""
    deploy(DIAGRAM, users["analyst"])
    response = signed_in_api(users["requester"], PASSWORD).post(
        "/api/v1/cases/", {"process": "testProcess", "data": {"n": 1}}, format="json"
    )
    assert response.status_code == 201, response.content
    answer = response.json()
    return answer, str(ReceiveWait.objects.get(case_id=answer["id"]).spiff_task_id)


def test_engine_rest_lists_the_waiting_execution_of_a_case(users, started):
    answer, execution = started
    case_id = answer["id"]
    client = _engine_rest(users["requester"])

    found = client.get(
        "/engine-rest/execution",
        {"processInstanceId": case_id, "activityId": "wait"},
    )

    assert found.status_code == 200, found.content
    dto = {"id": execution, "processInstanceId": case_id, "ended": False}
    assert found.json() == [{**dto, "tenantId": None}]
    assert client.get(f"/engine-rest/execution/{execution}").json() == {
        **dto,
        "tenantId": None,
    }
    count = client.get("/engine-rest/execution/count", {"processInstanceId": case_id})
    assert count.json() == {"count": 1}
    for other in ({"activityId": "start"}, {"businessKey": "nope"}):
        assert client.get("/engine-rest/execution", other).json() == []
    by_key = {"processDefinitionKey": "testProcess", "maxResults": 1}
    assert [e["id"] for e in client.get("/engine-rest/execution", by_key).json()] == [
        execution
    ]
    paged = {"processDefinitionKey": "testProcess", "firstResult": 1}
    assert client.get("/engine-rest/execution", paged).json() == []


def test_engine_rest_execution_then_signalled_is_gone(users, started):
    _, execution = started
    admin = _engine_rest(users["padmin"])
    assert admin.get(f"/engine-rest/execution/{execution}").status_code == 200
    signal = admin.post(f"/engine-rest/execution/{execution}/signal", {}, format="json")
    assert signal.status_code == 204

    gone = admin.get(f"/engine-rest/execution/{execution}")
    assert gone.status_code == 404
    assert gone.json()["type"] and execution in gone.json()["message"]
    assert admin.get("/engine-rest/execution").json() == []


@pytest.mark.parametrize("who", ["requester2", "outsider", "analyst"])
def test_who_may_not_read_the_case_sees_no_execution(users, started, who):
    answer, execution = started
    client = _engine_rest(users[who])

    listed = client.get("/engine-rest/execution", {"processInstanceId": answer["id"]})

    assert listed.status_code == 200
    assert listed.json() == []
    assert client.get("/engine-rest/execution/count").json() == {"count": 0}
    assert client.get(f"/engine-rest/execution/{execution}").status_code == 404
    detail = signed_in_api(users[who], PASSWORD).get(f"/api/v1/cases/{answer['id']}/")
    assert detail.status_code == 404


def test_engine_rest_execution_reads_refuse_bad_input(users, started):
    client = _engine_rest(users["auditor"])
    assert _engine_rest().get("/engine-rest/execution").status_code == 401
    unsupported = client.get("/engine-rest/execution", {"suspended": "true"})
    assert unsupported.status_code == 400
    assert "suspended" in unsupported.json()["message"]
    bad = client.get("/engine-rest/execution", {"processInstanceId": "x"})
    assert bad.status_code == 400
    assert "processInstanceId" in bad.json()["message"]
    assert client.get("/engine-rest/execution/not-a-uuid").status_code == 404
    for path in ("/engine-rest/execution", "/engine-rest/execution/count"):
        for query in ({"maxResults": "abc"}, {"firstResult": "-1"}):
            refused = client.get(path, query)
            assert refused.status_code == 400, (path, query)
            assert refused.json()["type"] == "InvalidRequestException"
            assert next(iter(query)) in refused.json()["message"]
        sorted_by = client.get(path, {"sortBy": "instanceId", "sortOrder": "asc"})
        assert sorted_by.status_code == 400
        assert "sortBy, sortOrder" in sorted_by.json()["message"]


def test_engine_rest_execution_reads_ignore_parameters_camunda_does_not_know(
    users, started
):
    """Camunda 7 binds the query parameters its ExecutionQueryDto has a
    @CamundaQueryParam setter for and ignores the rest (a cache buster, a
    client's own): so does Laneway, and still applies the filters it reads."""
    answer, execution = started
    client = _engine_rest(users["requester"])
    extra = {"_": "1733090000000", "deserializeValues": "false", "foo": "bar"}

    listed = client.get(
        "/engine-rest/execution", {**extra, "processInstanceId": answer["id"]}
    )
    count = client.get("/engine-rest/execution/count", extra)
    none = client.get("/engine-rest/execution", {**extra, "activityId": "start"})

    assert listed.status_code == 200, listed.content
    assert [e["id"] for e in listed.json()] == [execution]
    assert count.json() == {"count": 1}
    assert none.json() == []


def test_case_detail_lists_the_receive_waits(users, started):
    answer, execution = started
    wait = {"execution": execution, "element": "wait", "name": "wait"}
    assert [{k: w[k] for k in wait} for w in answer["receive_waits"]] == [wait]
    url = f"/api/v1/cases/{answer['id']}/"
    auditor = signed_in_api(users["auditor"], PASSWORD)

    shown = auditor.get(url).json()["receive_waits"]

    assert [{k: w[k] for k in wait} for w in shown] == [wait]
    assert shown[0]["since"]
    case_suspend(user=users["padmin"], case_id=answer["id"], reason="check")
    assert auditor.get(url).json()["receive_waits"] == shown  # still waits there
    case_resume(user=users["padmin"], case_id=answer["id"], reason="check")
    signed_in_api(users["padmin"], PASSWORD).post(
        f"/api/v1/executions/{execution}/signal/", {}, format="json"
    )
    done = auditor.get(url).json()
    assert (done["status"], done["receive_waits"]) == ("completed", [])


def test_schema_documents_the_receive_waits(users):
    api = signed_in_api(users["auditor"], PASSWORD)
    schema = api.get("/api/schema/", {"format": "json"}).json()
    detail = schema["components"]["schemas"]["CaseDetailOutput"]
    assert "receive_waits" in detail["properties"]
    assert (
        "execution"
        in schema["components"]["schemas"]["ReceiveWaitOutput"]["properties"]
    )


def test_an_integration_account_finds_the_execution_it_may_signal(users, started):
    """An integration holds `signal_receive` but reads no case: it still finds the
    execution it continues (Camunda's worker queries GET /execution, then signals)."""
    answer, execution = started
    erp = get_user_model().objects.create_user("erp", "erp@example.com", PASSWORD)
    erp.groups.add(Group.objects.get(name="integrations"))
    client = _engine_rest(erp)

    listed = client.get("/engine-rest/execution", {"processInstanceId": answer["id"]})

    assert [e["id"] for e in listed.json()] == [execution]
    url = f"/engine-rest/execution/{execution}/signal"
    signal = client.post(url, {}, format="json")
    assert signal.status_code == 204
    assert client.get("/engine-rest/execution").json() == []
    detail = signed_in_api(erp, PASSWORD).get(f"/api/v1/cases/{answer['id']}/")
    assert detail.status_code == 404  # the case itself stays out of its sight
