"""An external worker's bpmnError meets a specific and a catch-all error boundary.

BPMN 2.0.2 §10.5.4 and Camunda 7 (ErrorEventDefinition's precedence): of the
error boundary events of one activity, the one naming the thrown code catches
it, whichever is drawn first; another code goes to the catch-all one. Only one
of them fires. The worker throws through POST /engine-rest/external-task/{id}/
bpmnError, as a Camunda 7 external-task client does (the Celery worker's
business error is pinned by tests/conformance/scenarios/service_business_error_*).
"""

import base64
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from engine.models import Case, Incident
from engine.services import case_start
from processes.services import version_upload
from tasks_app.models import HumanTask
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

BASE = "/engine-rest/external-task"
DIAGRAMS = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"
TOPIC = "esc-credit-rating"  # no operation: an external task


def _diagram(specific_first: bool) -> bytes:
    xml = (DIAGRAMS / "service_errors_two_boundaries.bpmn").read_text()
    xml = xml.replace(
        'camunda:topic="conformance.credit_check"', f'camunda:topic="{TOPIC}"'
    )
    if specific_first:
        start = xml.index('    <bpmn:boundaryEvent id="Boundary_Any"')
        end = xml.index('    <bpmn:boundaryEvent id="Boundary_Specific"')
        stop = xml.index("</bpmn:boundaryEvent>", end) + len("</bpmn:boundaryEvent>\n")
        xml = xml[:start] + xml[end:stop] + xml[start:end] + xml[stop:]
    return xml.encode()


@pytest.fixture
def worker(users):
    user = get_user_model().objects.create_user("erp", "erp@example.com", PASSWORD)
    user.groups.add(Group.objects.get(name="integrations"))
    client = APIClient()
    token = base64.b64encode(f"erp:{PASSWORD}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def _throw(worker: APIClient, code: str) -> None:
    body = {
        "workerId": "w1",
        "maxTasks": 1,
        "topics": [{"topicName": TOPIC, "lockDuration": 10_000}],
    }
    [task] = worker.post(f"{BASE}/fetchAndLock", body, format="json").json()
    thrown = worker.post(
        f"{BASE}/{task['id']}/bpmnError",
        {"workerId": "w1", "errorCode": code, "errorMessage": "refused"},
        format="json",
    )
    assert thrown.status_code == 204, thrown.content


def _open(case: Case) -> Counter:
    return Counter(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


@pytest.mark.parametrize(
    "specific_first", [False, True], ids=["any-first", "specific-first"]
)
@pytest.mark.parametrize(
    ("code", "catcher"), [("LOW_SCORE", "Task_Specific"), ("OTHER", "Task_Any")]
)
def test_the_boundary_naming_the_code_catches_it_alone(
    users, worker, specific_first, code, catcher
):
    version_upload(
        user=users["analyst"],
        bpmn=_diagram(specific_first),
        filename="service_errors_two_boundaries.bpmn",
    )
    case, _ = case_start(
        user=users["requester"],
        key="service_errors_two_boundaries",
        data={"error_code": ""},
    )
    _throw(worker, code)
    case.refresh_from_db()
    assert _open(case) == Counter({catcher: 1})
    assert case.active_elements == [catcher]
    assert not Incident.objects.filter(case=case).exists()
