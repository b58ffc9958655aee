"""Call activities whose called process was deployed from another file.

Everything goes through `processes.services.version_upload`, `engine.services`
and `tasks_app.services` on PostgreSQL; nothing is mocked. A caller binds, at
deploy, to the latest deployed version of each process it calls outside its
file, and its cases run exactly those versions.
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


def test_caller_binds_the_deployed_callee_and_a_case_runs_through_its_user_task(
    users,
):
    review = _deploy(users, callee(), "review.bpmn").version
    deployed = _deploy(users, CALLER, "payment.bpmn")
    assert deployed.created is True
    caller = deployed.version
    assert list(caller.dependencies.all()) == [review]
    assert caller.dependencies_checksum
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


def test_callee_v2_leaves_bound_cases_on_v1_until_the_caller_is_redeployed(users):
    review_v1 = _deploy(users, callee(), "review.bpmn").version
    caller_v1 = _deploy(users, CALLER, "payment.bpmn").version
    running, _ = case_start(user=users["requester"], key="payment_request", data={})
    assert _open(running).bpmn_id == "finance_check"

    v2 = _deploy(
        users, callee("finance_check_v2", "Check payment twice"), "review.bpmn"
    )
    assert (v2.created, v2.version.number) == (True, 2)
    spec_cache._cache.clear()  # the caller's spec is rebuilt from its bound versions

    # The running case, and a new case of the caller's v1, still run callee v1.
    _finish(users, running, finance_task="finance_check")
    later, _ = case_start(user=users["requester"], key="payment_request", data={})
    assert later.version == caller_v1
    _finish(users, later, finance_task="finance_check")

    # The unchanged caller, uploaded again, binds the callee's new latest version.
    again = _deploy(users, CALLER, "payment.bpmn")
    assert (again.created, again.version.number) == (True, 2)
    assert list(again.version.dependencies.all()) == [v2.version]
    assert list(caller_v1.dependencies.all()) == [review_v1]
    assert again.version.checksum != caller_v1.checksum
    assert again.version.normalized_checksum == caller_v1.normalized_checksum
    assert again.version.dependencies_checksum != caller_v1.dependencies_checksum
    # ...and once bound, an identical upload is the same version again (200).
    assert _deploy(users, CALLER, "payment.bpmn").created is False
    assert _deploy(users, callee("finance_check_v2", "Check payment twice"), "r.bpmn")
    assert _deploy(users, CALLER, "payment.bpmn").created is False

    new, _ = case_start(user=users["requester"], key="payment_request", data={})
    assert new.version == again.version
    _finish(users, new, finance_task="finance_check_v2")


def test_bindings_are_transitive_and_a_case_runs_through_all_levels(users):
    first = _deploy(users, calling("first", "", group="Finance"), "first.bpmn")
    second = _deploy(users, calling("second", "first"), "second.bpmn")
    third = _deploy(users, calling("third", "second"), "third.bpmn").version
    assert set(third.dependencies.all()) == {first.version, second.version}

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


def test_one_callee_needed_in_two_versions_is_rejected(users):
    _deploy(users, calling("leaf", ""), "leaf.bpmn")
    _deploy(users, calling("middle", "leaf"), "middle.bpmn")
    _deploy(users, calling("leaf", "", group="Finance"), "leaf.bpmn")  # leaf v2
    top = calling("top", "middle").replace(
        b'<bpmn:endEvent id="top_end" />',
        b'<bpmn:callActivity id="top_leaf" calledElement="leaf" />\n'
        b'    <bpmn:endEvent id="top_end" />',
    )
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=top, filename="top.bpmn")
    [problem] = err.value.details["errors"]
    assert "need 'leaf' in several versions" in problem["message"]
    assert "v1 for middle v1; v2 for this file" in problem["message"]


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
