"""Call activities whose called process was deployed from another file.

Everything goes through `processes.services.version_upload`, `engine.services`
and `tasks_app.services` on PostgreSQL; nothing is mocked. A caller is checked,
at deploy, against the versions its calls would run then (the callee must be
deployed); a call resolves the version it runs when it starts
(test_call_latest.py has the scenarios of callee versions deployed while a
case runs).
"""

import pytest

from audit.models import AuditEvent
from engine import spec_cache
from engine.models import Case
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.models import ProcessVersion
from processes.services import bundle_validate, version_upload
from tasks_app.models import HumanTask
from tasks_app.selectors import inbox_list_for_user
from tasks_app.services import task_complete

pytestmark = pytest.mark.django_db

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs_{key}" targetNamespace="http://laneway.example/test">
"""


def callee(task_id: str = "finance_check", name: str = "Check payment") -> bytes:
    """The called process: one user task in the Finance lane, with a form."""
    return (
        HEAD.format(key="callee")
        + f"""  <bpmn:process id="finance_review" name="Finance review"
      isExecutable="true">
    <bpmn:laneSet id="callee_lanes">
      <bpmn:lane id="lane_finance" name="Finance">
        <bpmn:flowNodeRef>{task_id}</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="callee_start" />
    <bpmn:sequenceFlow id="callee_f1" sourceRef="callee_start"
        targetRef="{task_id}" />
    <bpmn:userTask id="{task_id}" name="{name}">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="paid" label="Paid" type="boolean" />
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="callee_f2" sourceRef="{task_id}" targetRef="callee_end" />
    <bpmn:endEvent id="callee_end" />
  </bpmn:process>
</bpmn:definitions>
"""
    ).encode()


CALLER = (
    HEAD.format(key="caller")
    + """  <bpmn:process id="payment_request" name="Payment request"
      isExecutable="true">
    <bpmn:startEvent id="caller_start">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="amount" label="Amount" type="long" />
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="caller_f1" sourceRef="caller_start"
        targetRef="call_review" />
    <bpmn:callActivity id="call_review" calledElement="finance_review">
      <bpmn:extensionElements>
        <camunda:out source="paid" target="paid" />
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="caller_f2" sourceRef="call_review" targetRef="approve" />
    <bpmn:userTask id="approve" name="Approve" camunda:candidateGroups="Manager" />
    <bpmn:sequenceFlow id="caller_f3" sourceRef="approve" targetRef="caller_end" />
    <bpmn:endEvent id="caller_end" />
  </bpmn:process>
</bpmn:definitions>
"""
).encode()
CALL_LINE = 1 + next(  # the line of <bpmn:callActivity> in CALLER
    n for n, line in enumerate(CALLER.splitlines()) if b"<bpmn:callActivity" in line
)


def calling(key: str, called: str, *, group: str = "Manager") -> bytes:
    """A process `key` with a user task, then a call activity to `called` (if any)."""
    call = (
        f"""    <bpmn:sequenceFlow id="{key}_f2" sourceRef="{key}_task"
        targetRef="{key}_call" />
    <bpmn:callActivity id="{key}_call" calledElement="{called}" />
    <bpmn:sequenceFlow id="{key}_f3" sourceRef="{key}_call" targetRef="{key}_end" />
"""
        if called
        else f"""    <bpmn:sequenceFlow id="{key}_f2" sourceRef="{key}_task"
        targetRef="{key}_end" />
"""
    )
    return (
        HEAD.format(key=key)
        + f"""  <bpmn:process id="{key}" name="{key}" isExecutable="true">
    <bpmn:startEvent id="{key}_start" />
    <bpmn:sequenceFlow id="{key}_f1" sourceRef="{key}_start" targetRef="{key}_task" />
    <bpmn:userTask id="{key}_task" name="Task of {key}"
        camunda:candidateGroups="{group}" />
{call}    <bpmn:endEvent id="{key}_end" />
  </bpmn:process>
</bpmn:definitions>
"""
    ).encode()


def _deploy(users, data: bytes, filename: str):
    [deployed] = version_upload(user=users["analyst"], bpmn=data, filename=filename)
    return deployed


def _open(case: Case) -> HumanTask:
    return HumanTask.objects.get(case=case, status="open")


def _finish(users, case: Case, *, finance_task: str) -> None:
    """Complete the callee's finance task, then the caller's approval."""
    task = _open(case)
    assert task.bpmn_id == finance_task
    task_complete(user=users["finance"], task_id=task.pk, data={"paid": True})
    approve = _open(case)
    assert approve.bpmn_id == "approve"
    task_complete(user=users["manager1"], task_id=approve.pk, data={})
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED


def test_caller_is_checked_against_the_deployed_callee_and_a_case_runs_through_it(
    users,
):
    review = _deploy(users, callee(), "review.bpmn").version
    deployed = _deploy(users, CALLER, "payment.bpmn")
    assert deployed.created is True
    caller = deployed.version
    # Recorded for the record; nothing of the callee is embedded in the caller.
    assert list(caller.dependencies.all()) == [review]
    assert caller.dependencies_checksum == ""
    audit = AuditEvent.objects.get(action="process.deployed", version_id=caller.pk)
    assert audit.payload["calls"] == ["finance_review v1"]

    case, _ = case_start(user=users["requester"], key="payment_request", data={})
    task = _open(case)
    assert (task.bpmn_id, task.name, task.lane) == (
        "finance_check",
        "Check payment",
        "Finance",
    )
    assert task.candidate_groups == ["Finance"]
    assert [f["id"] for f in task.form] == ["paid"]
    assert list(inbox_list_for_user(user=users["finance"])) == [task]
    assert list(inbox_list_for_user(user=users["manager1"])) == []

    _finish(users, case, finance_task="finance_check")
    assert (
        HumanTask.objects.get(case=case, bpmn_id="finance_check").completed_by
        == (users["finance"])
    )
    assert case.data["paid"] is True
    call = AuditEvent.objects.get(action="call.started", case_id=case.pk)
    assert (call.task_ref, call.payload["called"]) == (
        "call_review",
        "finance_review v1",
    )


def test_caller_deployed_before_its_callee_is_rejected_with_the_hint(users):
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=CALLER, filename="payment.bpmn")
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "call_review"
    assert problem["line"] == CALL_LINE
    assert "calls the process 'finance_review'" in problem["message"]
    assert (
        "deploy 'finance_review' first (or put it in the same file)"
        in (problem["message"])
    )
    assert ProcessVersion.objects.count() == 0

    _deploy(users, callee(), "review.bpmn")
    assert [p.key for p in bundle_validate(bpmn=CALLER, filename="p.bpmn")] == [
        "payment_request"
    ]


def test_an_unchanged_caller_is_the_same_version_whatever_its_callee_deployed(users):
    """The upload checksum no longer covers the callee's versions: a call
    resolves its version when it starts (Camunda 7, calledElementBinding
    latest), so re-uploading an unchanged caller changes nothing (200)."""
    _deploy(users, callee(), "review.bpmn")
    caller = _deploy(users, CALLER, "payment.bpmn").version
    v2 = _deploy(
        users, callee("finance_check_v2", "Check payment twice"), "review.bpmn"
    )
    assert (v2.created, v2.version.number) == (True, 2)
    again = _deploy(users, CALLER, "payment.bpmn")
    assert (again.created, again.version) == (False, caller)

    spec_cache._cache.clear()
    case, _ = case_start(user=users["requester"], key="payment_request", data={})
    assert case.version == caller
    _finish(users, case, finance_task="finance_check_v2")


def test_bindings_are_transitive_and_a_case_runs_through_all_levels(users):
    first = _deploy(users, calling("first", "", group="Finance"), "first.bpmn")
    second = _deploy(users, calling("second", "first"), "second.bpmn")
    third = _deploy(users, calling("third", "second"), "third.bpmn").version
    assert first.version.number == 1
    assert set(third.dependencies.all()) == {second.version}  # its own callee

    spec_cache._cache.clear()
    case, _ = case_start(user=users["requester"], key="third", data={})
    for bpmn_id, user in [
        ("third_task", "manager1"),
        ("second_task", "manager1"),
        ("first_task", "finance"),
    ]:
        task = _open(case)
        assert task.bpmn_id == bpmn_id
        task_complete(user=users[user], task_id=task.pk, data={})
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED


def test_a_call_cycle_across_files_is_rejected(users):
    _deploy(users, calling("alpha", ""), "alpha.bpmn")
    _deploy(users, calling("beta", "alpha"), "beta.bpmn")
    # alpha v2 calls beta, which is bound to alpha v1: A -> B -> A across files.
    versions = ProcessVersion.objects.count()
    with pytest.raises(BpmnInvalid) as err:
        version_upload(
            user=users["analyst"], bpmn=calling("alpha", "beta"), filename="alpha.bpmn"
        )
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "alpha"
    assert problem["line"] == 5  # <bpmn:process id="alpha">
    assert "a call cycle across files" in problem["message"]
    assert "also in 'alpha.bpmn' (alpha v1)" in problem["message"]
    assert ProcessVersion.objects.count() == versions


def test_one_callee_called_from_two_levels_runs_its_latest_version_in_both(users):
    """Formerly refused ('needed in several versions'): each call now resolves
    the latest deployed version when it starts, so both calls run leaf v2."""
    _deploy(users, calling("leaf", ""), "leaf.bpmn")
    _deploy(users, calling("middle", "leaf"), "middle.bpmn")
    _deploy(users, calling("leaf", "", group="Finance"), "leaf.bpmn")  # leaf v2
    top = calling("top", "middle").replace(
        b'sourceRef="top_call" targetRef="top_end" />',
        b'sourceRef="top_call" targetRef="top_leaf" />\n'
        b'    <bpmn:callActivity id="top_leaf" calledElement="leaf" />\n'
        b'    <bpmn:sequenceFlow id="top_f4" sourceRef="top_leaf"\n'
        b'        targetRef="top_end" />',
    )
    _deploy(users, top, "top.bpmn")
    case, _ = case_start(user=users["requester"], key="top", data={})
    for bpmn_id, user in [
        ("top_task", "manager1"),
        ("middle_task", "manager1"),
        ("leaf_task", "finance"),  # leaf v2, called by middle v1
        ("leaf_task", "finance"),  # leaf v2, called by top
    ]:
        task = _open(case)
        assert task.bpmn_id == bpmn_id
        task_complete(user=users[user], task_id=task.pk, data={})
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    calls = AuditEvent.objects.filter(action="call.started", case_id=case.pk)
    assert [e.payload["called"] for e in calls.order_by("at", "pk")] == [
        "middle v1",
        "leaf v2",
        "leaf v2",
    ]


def test_a_call_to_a_non_executable_process_of_the_file_is_not_bound_elsewhere(
    users,
):
    _deploy(users, callee(), "review.bpmn")
    local = CALLER.replace(
        b"</bpmn:definitions>",
        b'  <bpmn:process id="finance_review" isExecutable="false" />\n'
        b"</bpmn:definitions>",
    )
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=local, filename="payment.bpmn")
    errors = err.value.details["errors"]
    [problem] = [e for e in errors if e["element_id"] == "call_review"]
    assert (
        "calls the process 'finance_review' of this file, which is not "
        in (problem["message"])
    )


def test_a_human_task_id_shared_with_the_called_process_is_rejected(users):
    _deploy(users, callee(), "review.bpmn")
    clash = CALLER.replace(b'"approve"', b'"finance_check"')
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=clash, filename="payment.bpmn")
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "finance_check"
    assert problem["line"]
    assert (
        "same id as a human task of 'review.bpmn' (finance_review v1)"
        in (problem["message"])
    )


def _pinned(version: str) -> bytes:
    return CALLER.replace(
        b'calledElement="finance_review"',
        b'calledElement="finance_review" camunda:calledElementBinding="version" '
        b'camunda:calledElementVersion="' + version.encode() + b'"',
    )


def test_binding_version_binds_that_callee_version_not_the_latest(users):
    review_v1 = _deploy(users, callee(), "review.bpmn").version
    _deploy(users, callee("finance_check_v2", "Check payment twice"), "review.bpmn")
    caller = _deploy(users, _pinned("1"), "payment.bpmn").version
    assert list(caller.dependencies.all()) == [review_v1]
    case, _ = case_start(user=users["requester"], key="payment_request", data={})
    _finish(users, case, finance_task="finance_check")
    assert case.status == "completed"


def test_binding_a_version_that_is_not_deployed_or_not_a_number_is_rejected(users):
    _deploy(users, callee(), "review.bpmn")
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=_pinned("7"), filename="p.bpmn")
    [problem] = err.value.details["errors"]
    assert "binds version 7 of 'finance_review'" in problem["message"]
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=_pinned("${v}"), filename="p.bpmn")
    [problem] = err.value.details["errors"]
    assert (problem["element_id"], problem["line"]) == ("call_review", CALL_LINE)
    assert "give a version number" in problem["message"]
