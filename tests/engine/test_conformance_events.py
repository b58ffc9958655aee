"""Events run as BPMN 2.0 says: event sub-processes, boundary events, message starts.

Each test drives a diagram of tests/conformance/bpmn/ through the services or the
API on PostgreSQL; timers are fired by the real sweep (`timers_fire_due_task`).
"""

import time
from collections import Counter
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

import engine.tasks  # noqa: F401  (registers engine.service_call_run)
from config.celery import app
from engine.errors import MessageStartOnly
from engine.models import Case, MessageSubscription, ServiceCall
from engine.selectors import process_list_startable_for_user
from engine.services import case_start, message_deliver
from engine.tasks import timers_fire_due_task
from processes.errors import BpmnInvalid
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db

DIAGRAMS = Path(__file__).resolve().parent.parent / "conformance" / "bpmn"


@pytest.fixture
def approver(users):
    user = get_user_model().objects.create_user("alice", "alice@example.com", "x")
    user.groups.add(Group.objects.get_or_create(name="approvers")[0])
    return user


@pytest.fixture
def sender(users):
    user = get_user_model().objects.create_user("erp", "erp@example.com", "x")
    user.groups.add(Group.objects.get(name="integrations"))
    return user


def _deploy(users, name: str) -> str:
    deploy(DIAGRAMS / f"{name}.bpmn", users["analyst"])
    return name


def _start(users, approver, name: str, **data) -> Case:
    key = _deploy(users, name)
    case, _ = case_start(user=approver, key=key, data=data)
    return case


def _open(case: Case) -> Counter:
    return Counter(
        HumanTask.objects.filter(case=case, status="open").values_list(
            "bpmn_id", flat=True
        )
    )


def _status(case: Case, bpmn_id: str) -> list[str]:
    return list(
        HumanTask.objects.filter(case=case, bpmn_id=bpmn_id).values_list(
            "status", flat=True
        )
    )


def _complete(approver, case: Case, bpmn_id: str, **data) -> None:
    task = HumanTask.objects.filter(case=case, bpmn_id=bpmn_id, status="open").first()
    task_complete(user=approver, task_id=task.pk, data=data)


def _send(user, name: str, **correlation):
    return _client(user).post(
        "/api/v1/messages/",
        {"name": name, "correlation": correlation, "data": {}},
        format="json",
    )


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _fire_timers() -> None:
    time.sleep(1.2)  # the diagrams' timers are PT1S
    assert timers_fire_due_task() >= 1


# Found 5: event sub-processes ---------------------------------------------------


def test_interrupting_timer_event_subprocess_cancels_the_main_flow(users, approver):
    case = _start(users, approver, "ev_esp_timer_interrupting", request="R-1")
    _fire_timers()
    assert _open(case) == Counter({"Task_Handle": 1})
    assert _status(case, "Task_Main") == ["cancelled"]
    _complete(approver, case, "Task_Handle", handled=True)
    case.refresh_from_db()
    assert case.status == "completed"
    assert case.data == {"request": "R-1", "handled": True}


def test_main_flow_ending_first_disarms_the_timer_event_subprocess(users, approver):
    case = _start(users, approver, "ev_esp_timer_interrupting")
    _complete(approver, case, "Task_Main")
    case.refresh_from_db()
    assert case.status == "completed" and case.next_timer_at is None


def test_non_interrupting_timer_event_subprocess_runs_beside(users, approver):
    case = _start(users, approver, "ev_esp_timer_non_interrupting")
    _fire_timers()
    assert _open(case) == Counter({"Task_Main": 1, "Task_Handle": 1})
    _complete(approver, case, "Task_Main")
    case.refresh_from_db()
    assert case.status == "running"  # the event sub-process still runs
    _complete(approver, case, "Task_Handle")
    case.refresh_from_db()
    assert case.status == "completed"


def test_message_event_subprocess_receives_its_message_over_the_api(
    users, approver, sender
):
    case = _start(users, approver, "ev_esp_message_interrupting", request="R-7")
    assert list(
        MessageSubscription.objects.filter(case=case).values_list("name", flat=True)
    ) == ["request_changed"]
    response = _send(sender, "request_changed", request="R-7")
    assert response.status_code == 200, response.json()
    assert response.json()["delivered"] == [str(case.pk)]
    assert _open(case) == Counter({"Task_Handle": 1})
    assert _status(case, "Task_Main") == ["cancelled"]
    again = _send(sender, "request_changed", request="R-7")
    assert again.status_code == 404
    assert again.json()["code"] == "message_not_correlated"


def test_non_interrupting_message_event_subprocess_runs_once_per_message(
    users, approver, sender
):
    case = _start(users, approver, "ev_esp_message_non_interrupting", request="R-8")
    for _ in range(2):
        assert _send(sender, "request_changed", request="R-8").status_code == 200
    assert _open(case) == Counter({"Task_Main": 1, "Task_Handle": 2})
    _complete(approver, case, "Task_Main")
    assert _open(case) == Counter({"Task_Handle": 2})
    _complete(approver, case, "Task_Handle")
    _complete(approver, case, "Task_Handle")
    case.refresh_from_db()
    assert case.status == "completed"
    assert not MessageSubscription.objects.filter(case=case).exists()


def test_error_is_caught_by_the_innermost_event_subprocess(users, approver):
    case = _start(users, approver, "ev_esp_error_scopes")
    _complete(approver, case, "Task_Work", code="E_INNER")
    assert _open(case) == Counter({"Task_Inner_Handler": 1})
    _complete(approver, case, "Task_Inner_Handler")
    assert _open(case) == Counter({"Task_After": 1})  # the outer one never ran
    _complete(approver, case, "Task_After")
    case.refresh_from_db()
    assert case.status == "completed" and case.data["code"] == "E_INNER"


def test_error_the_inner_scope_does_not_name_reaches_the_outer_one(users, approver):
    case = _start(users, approver, "ev_esp_error_scopes")
    _complete(approver, case, "Task_Work", code="E_OTHER")
    assert _open(case) == Counter({"Task_Outer_Handler": 1})
    _complete(approver, case, "Task_Outer_Handler")
    case.refresh_from_db()
    assert case.status == "completed"


@pytest.mark.parametrize("kind", ["escalation", "signal"])
def test_escalation_and_signal_event_subprocesses(users, approver, kind):
    stopped = _start(users, approver, f"ev_esp_{kind}_interrupting")
    _complete(approver, stopped, "Task_Main")
    assert _open(stopped) == Counter({"Task_Handle": 1})
    beside = _start(users, approver, f"ev_esp_{kind}_non_interrupting")
    _complete(approver, beside, "Task_Main")
    assert _open(beside) == Counter({"Task_Next": 1, "Task_Handle": 1})


# Found 6: only the most specific boundary fires ---------------------------------


def test_error_boundary_naming_the_code_wins_over_the_catch_all(users, approver):
    specific = _start(users, approver, "ev_boundary_error_specific")
    _complete(approver, specific, "Task_Work", code="A")
    assert _open(specific) == Counter({"Task_Specific": 1})
    _complete(approver, specific, "Task_Specific")
    specific.refresh_from_db()
    # What the sub-process set before it threw is kept (BPMN variables).
    assert specific.status == "completed" and specific.data == {"code": "A"}
    other, _ = case_start(user=approver, key="ev_boundary_error_specific", data={})
    _complete(approver, other, "Task_Work", code="B")
    assert _open(other) == Counter({"Task_Any": 1})


@pytest.mark.parametrize(
    ("name", "element", "line"),
    [
        ("ev_boundary_escalation_specific", "Boundary_Any", 59),
        ("ev_refused_escalation_esp_twice", "Start_Esp_Any", 41),
    ],
)
def test_a_specific_escalation_catch_beside_a_catch_all_in_one_scope_is_refused(
    users, name, element, line
):
    # Camunda 7 refuses it at deploy (BpmnParse.addEscalationEventDefinition):
    # it does not say which of the two catches; Laneway ran the specific one.
    with pytest.raises(BpmnInvalid) as refused:
        _deploy(users, name)
    [problem] = [
        p for p in refused.value.details["errors"] if p["element_id"] == element
    ]
    assert problem["line"] == line
    assert "one of the two" in problem["message"]
    assert "Camunda 7 refuses it too" in problem["message"]


def test_escalation_is_caught_by_the_nearest_boundary_naming_it(users, approver):
    inner = _start(users, approver, "ev_boundary_escalation_nested")
    _complete(approver, inner, "Task_Work", code="A")
    # Non-interrupting: the other branch goes on; the outer catch-all is silent.
    assert _open(inner) == Counter({"Task_Other": 1, "Task_Specific": 1})
    outer, _ = case_start(user=approver, key="ev_boundary_escalation_nested", data={})
    _complete(approver, outer, "Task_Work", code="B")
    assert _open(outer) == Counter({"Task_Any": 1})
    assert _status(outer, "Task_Other") == ["cancelled"]


def test_non_interrupting_message_boundary_fires_for_every_message(
    users, approver, sender
):
    case = _start(users, approver, "ev_boundary_message", doc="D-1")
    for _ in range(3):
        assert _send(sender, "ev_note_added", doc="D-1").status_code == 200
    assert _open(case) == Counter({"Task_Approve": 1, "Task_Read_Note": 3})
    assert _send(sender, "ev_withdrawn", doc="D-1").status_code == 200
    assert _status(case, "Task_Approve") == ["cancelled"]
    assert _send(sender, "ev_note_added", doc="D-1").status_code == 404


# Found 8: a process that starts only by its message ------------------------------


def test_message_start_only_process_refuses_a_plain_case_start(users, approver, sender):
    key = _deploy(users, "ev_message_start_only")
    with pytest.raises(MessageStartOnly):
        case_start(user=users["padmin"], key=key, data={})
    response = _client(users["padmin"]).post(
        "/api/v1/cases/", {"process": key, "data": {}}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "message_start_only"
    assert key not in {p.key for p in process_list_startable_for_user(user=approver)}
    assert not Case.objects.exists()

    first = message_deliver(
        user=sender, name="ev_order_placed", correlation={}, data={"order": 1}
    )
    second = message_deliver(
        user=sender, name="ev_order_placed", correlation={}, data={"order": 2}
    )
    assert len(first.started) == 1 and len(second.started) == 1
    assert first.started != second.started
    assert {c.data["order"] for c in Case.objects.all()} == {1, 2}
    assert not MessageSubscription.objects.exists()


# A service task's business error, on a real worker, reaches an error event
# sub-process (the throwing task has no boundary event) -----------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_service_business_error_starts_the_error_event_subprocess(users, settings):
    settings.ENGINE_SERVICE_OPERATIONS = {
        "test.credit": "tests.operations.credit_check"
    }
    deploy(BPMN_DIR / "service_error_event_subprocess.bpmn", users["analyst"])
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        case, _ = case_start(
            user=users["finance"],
            key="service_error_esp",
            data={"error_code": "CREDIT_REJECTED"},
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _open(case)["handle_rejection"]:
            time.sleep(0.1)
    assert _open(case) == Counter({"handle_rejection": 1})
    assert _status(case, "prepare") == ["cancelled"]  # interrupting: main flow ends
    assert ServiceCall.objects.get(case=case).status == "business_error"
    _complete(users["finance"], case, "handle_rejection")
    case.refresh_from_db()
    assert case.status == "completed" and not case.has_incident
