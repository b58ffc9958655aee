"""Repairs through the token API: suspend, resume, edit case variables; all audited."""

import time

import pytest

from audit.models import AuditEvent
from engine.models import Case, ServiceCall
from engine.services import case_start
from engine.tasks import service_call_run_task, timers_fire_due_task
from tasks_app.models import HumanTask
from tasks_app.services import task_complete
from tests.clients import api_for, page_for
from tests.conftest import BPMN_DIR, deploy, deploy_timer_escalation

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def case(users, purchase) -> Case:
    started, _ = case_start(
        user=users["requester"],
        key="purchase_request",
        data={"amount": 7, "justification": "Ink"},
    )
    return started


def _review(case: Case) -> HumanTask:
    return HumanTask.objects.get(case=case, bpmn_id="manager_review")


def _event(case: Case, action: str) -> AuditEvent:
    return AuditEvent.objects.get(case_id=case.pk, action=action)


def test_a_suspended_case_refuses_every_command_until_resumed(users, case):
    admin, manager = api_for(users["padmin"]), api_for(users["manager1"])
    url = f"/api/v1/cases/{case.pk}/"
    response = admin.post(url + "suspend/", {"reason": "supplier dispute"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "suspended"
    task = f"/api/v1/tasks/{_review(case).pk}/"
    refusals = [
        manager.post(task + "claim/"),
        manager.post(task + "complete/", {"data": {"approved": True}}, format="json"),
        api_for(users["requester"]).post(url + "cancel/", {"reason": "x"}),
        admin.post(url + "suspend/", {"reason": "again"}),
    ]
    for refused in refusals:
        assert refused.status_code == 409, refused.content
        assert refused.json()["code"] == "case_suspended"
    assert _review(case).assignee is None
    event = _event(case, "case.suspended")
    assert (event.actor_repr, event.payload["reason"]) == ("padmin", "supplier dispute")
    assert event.payload["before"] == {"status": "running"}
    assert event.payload["after"] == {"status": "suspended"}

    response = admin.post(url + "resume/", {"reason": "settled"})
    assert response.json()["status"] == "running"
    resumed = _event(case, "case.resumed")
    assert resumed.payload["after"] == {"status": "running"}
    done = manager.post(task + "complete/", {"data": {"approved": True}}, format="json")
    assert done.status_code == 200, done.content


def test_only_process_admins_repair(users, case):
    url = f"/api/v1/cases/{case.pk}/"
    starter = api_for(users["requester"])  # sees the case, may not repair it
    assert starter.post(url + "suspend/", {"reason": "r"}).status_code == 403
    patch = {"set": {"amount": 1}, "reason": "r"}
    assert starter.patch(url + "data/", patch, format="json").status_code == 403
    outsider = api_for(users["outsider"])  # may not even see it
    assert outsider.post(url + "suspend/", {"reason": "r"}).status_code == 404
    assert Case.objects.get(pk=case.pk).status == "running"
    assert not AuditEvent.objects.filter(action="case.suspended").exists()


def test_repairs_refuse_the_wrong_state_and_need_a_reason(users, case):
    admin = api_for(users["padmin"])
    url = f"/api/v1/cases/{case.pk}/"
    resumed = admin.post(url + "resume/", {"reason": "r"})
    assert (resumed.status_code, resumed.json()["code"]) == (409, "case_not_suspended")
    no_reason = admin.post(url + "suspend/", {})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["details"]["fields"]
    api_for(users["requester"]).post(url + "cancel/", {"reason": "gone"})
    ended = admin.post(url + "suspend/", {"reason": "r"})
    assert (ended.status_code, ended.json()["code"]) == (409, "case_not_running")


def test_edited_variables_reach_the_next_step_audited_before_and_after(users, case):
    admin = api_for(users["padmin"])
    admin.post(f"/api/v1/cases/{case.pk}/suspend/", {"reason": "fix the amount"})
    response = admin.patch(
        f"/api/v1/cases/{case.pk}/data/",
        {
            "set": {"amount": 9, "cost_centre": "CC-7"},
            "unset": ["justification"],
            "reason": "typo in the request",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    after = response.json()["data"]
    assert after["amount"] == 9 and after["cost_centre"] == "CC-7"
    assert "justification" not in after
    event = _event(case, "case.data_changed")
    assert event.actor_repr == "padmin"
    assert event.payload["reason"] == "typo in the request"
    assert event.payload["before"]["amount"] == 7
    assert event.payload["before"]["justification"] == "Ink"
    assert event.payload["after"] == after

    admin.post(f"/api/v1/cases/{case.pk}/resume/", {"reason": "fixed"})
    task_complete(
        user=users["manager1"], task_id=_review(case).pk, data={"approved": True}
    )
    data = Case.objects.get(pk=case.pk).data
    assert (data["amount"], data["cost_centre"], data["approved"]) == (9, "CC-7", True)
    assert "justification" not in data


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"set": [1, 2], "reason": "r"}, "set"),
        ({"set": {}, "unset": ["nope"], "reason": "r"}, "unset"),
        ({"set": {"amount": 1}, "unset": ["amount"], "reason": "r"}, "unset"),
        ({"reason": "r"}, "set"),
        ({"set": {"amount": 1}}, "reason"),
    ],
)
def test_bad_data_edits_are_400_and_change_nothing(users, case, body, field):
    url = f"/api/v1/cases/{case.pk}/data/"
    response = api_for(users["padmin"]).patch(url, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]["fields"]
    assert Case.objects.get(pk=case.pk).data == case.data
    assert not AuditEvent.objects.filter(action="case.data_changed").exists()


def test_a_suspended_case_fires_no_timer_until_resumed(users, tmp_path):
    deploy_timer_escalation(tmp_path, users["analyst"], "PT1S")
    case, _ = case_start(user=users["requester"], key="timer_escalation", data={})
    admin = api_for(users["padmin"])
    admin.post(f"/api/v1/cases/{case.pk}/suspend/", {"reason": "hold"})
    time.sleep(1.2)
    assert timers_fire_due_task() == 0
    assert not AuditEvent.objects.filter(case_id=case.pk, action="timer.fired")
    admin.post(f"/api/v1/cases/{case.pk}/resume/", {"reason": "go"})
    assert timers_fire_due_task() == 1  # the timer that came due meanwhile
    open_tasks = HumanTask.objects.filter(case=case, status="open")
    assert [t.bpmn_id for t in open_tasks] == ["escalated_review"]


def test_a_suspended_case_runs_no_service_call_until_resumed(users):
    deploy(BPMN_DIR / "service_echo.bpmn", users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="service_echo", data={"amount": 21}
    )
    call = ServiceCall.objects.get(case=case)
    admin = api_for(users["padmin"])
    admin.post(f"/api/v1/cases/{case.pk}/suspend/", {"reason": "ERP migration"})
    assert service_call_run_task(call.pk) == "suspended"  # a worker picks it up
    call.refresh_from_db()
    assert (call.status, call.attempts) == ("pending", 0)
    admin.post(f"/api/v1/cases/{case.pk}/resume/", {"reason": "ERP back"})
    assert service_call_run_task(call.pk) == "succeeded"


def test_repairs_through_the_case_repair_page(users, case):
    page = page_for(users["padmin"])
    url = f"/cockpit/cases/{case.pk}/"
    assert page.get(url).status_code == 200
    done = page.post(url, {"action": "suspend", "reason": "audit hold"})
    assert done.status_code == 302
    assert Case.objects.get(pk=case.pk).status == "suspended"
    bad = page.post(url, {"action": "data", "set": "{amount: 9", "reason": "fix"})
    assert bad.status_code == 400 and "set" in bad.context["errors"]
    unknown = page.post(url, {"action": "data", "unset": "nope", "reason": "fix"})
    assert unknown.status_code == 400 and "unset" in unknown.context["errors"]
    changed = page.post(
        url,
        {
            "action": "data",
            "set": '{"amount": 9}',
            "unset": "justification",
            "reason": "typo",
        },
    )
    assert changed.status_code == 302
    data = Case.objects.get(pk=case.pk).data
    assert data["amount"] == 9 and "justification" not in data
    assert page.post(url, {"action": "resume", "reason": ""}).status_code == 400
    page.post(url, {"action": "resume", "reason": "released"})
    assert Case.objects.get(pk=case.pk).status == "running"
    actions = list(
        AuditEvent.objects.filter(case_id=case.pk, actor_repr="padmin")
        .order_by("chain_seq")
        .values_list("action", flat=True)
    )
    assert actions == ["case.suspended", "case.data_changed", "case.resumed"]
    assert page_for(users["requester"]).get(url).status_code == 403
    assert page_for(users["outsider"]).get(url).status_code == 404


def test_suspending_a_version_suspends_each_running_case_audited(users, purchase):
    cases = [
        case_start(
            user=users["requester"],
            key="purchase_request",
            data={"amount": 7, "justification": "Ink"},
        )[0]
        for _ in range(3)
    ]
    api_for(users["requester"]).post(f"/api/v1/cases/{cases[2].pk}/cancel/", {})
    url = "/api/v1/processes/purchase_request/versions/1/"
    admin = api_for(users["padmin"])
    assert (
        api_for(users["requester"]).post(url + "suspend/", {"reason": "r"}).status_code
        == 403
    )
    response = admin.post(url + "suspend/", {"reason": "supplier fraud"})
    assert response.status_code == 200, response.content
    assert set(response.json()["cases"]) == {str(cases[0].pk), str(cases[1].pk)}
    statuses = {c.pk: c.status for c in Case.objects.all()}
    assert statuses == {
        cases[0].pk: "suspended",
        cases[1].pk: "suspended",
        cases[2].pk: "cancelled",
    }
    assert AuditEvent.objects.filter(action="case.suspended").count() == 2
    resumed = admin.post(url + "resume/", {"reason": "cleared"})
    assert len(resumed.json()["cases"]) == 2
    assert Case.objects.filter(status="running").count() == 2
    assert (
        admin.post(
            "/api/v1/processes/purchase_request/versions/7/suspend/", {"reason": "r"}
        ).status_code
        == 404
    )
