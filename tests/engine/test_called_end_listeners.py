"""End listeners of a called instance run when its call activity is cancelled.

Camunda 7 cancels a call activity (here: an interrupting timer boundary event on
it) by deleting the called instance without skipping custom listeners
(PvmExecutionImpl.deleteCascade; ExecutionListenerTest
.testOnCancellingBoundaryEvents): the end listener of the called process's
waiting user task runs then, also in an instance the called one calls in turn,
also for a version deployed before, or a callee named by an expression. Its
variables stay the called instance's (no output is mapped from a deleted call),
so what shows is a listener that fails: the step fails with an incident naming
it. An operator cancelling the caller runs them too (RuntimeServiceTest
.testDeleteProcessInstanceWithListeners), and a failing one refuses it.
"""

import hashlib
import re
from pathlib import Path

import pytest

from audit.models import AuditEvent
from engine.errors import CancellationFailed
from engine.models import Case
from engine.services import case_cancel, case_start
from engine.tasks import timers_fire_due_task
from processes.models import ProcessVersion
from tests.clients import api_for
from tests.conftest import BPMN_DIR, deploy

pytestmark = pytest.mark.django_db

END_LISTENER = (
    '<bpmn:extensionElements><camunda:executionListener event="end" '
    "expression=\"${execution.setVariable('reviewed', VALUE)}\" />"
    "</bpmn:extensionElements>"
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.bpmn"
    path.write_text(text)
    return path


def _child(tmp_path: Path, value: str | None) -> Path:
    """The called process; its review's end listener sets `reviewed` to
    `value` (an unknown name fails), or it has none."""
    text = (BPMN_DIR / "called_end_child.bpmn").read_text()
    listener = END_LISTENER.replace("VALUE", value) if value else ""
    return _write(tmp_path, "child", text.replace("LISTENER", listener))


def _caller(
    tmp_path: Path, *, interrupting: bool = True, callee: str = "ce_child"
) -> Path:
    text = (BPMN_DIR / "called_end_caller.bpmn").read_text()
    text = text.replace("CANCEL", "true" if interrupting else "false")
    text = text.replace("PT1H", "PT0S").replace('"ce_child"', f'"{callee}"')
    return _write(tmp_path, "caller", text)


def _timed_out(users) -> Case:
    case, _ = case_start(user=users["requester"], key="ce_caller", data={})
    timers_fire_due_task()
    return Case.objects.get(pk=case.pk)


def test_a_cancellable_call_of_a_process_with_an_end_listener_deploys_and_runs(
    users, tmp_path
):
    deploy(_child(tmp_path, "true"), users["analyst"])
    deploy(_caller(tmp_path), users["analyst"])
    case = _timed_out(users)
    assert case.status == "completed"
    assert not case.incidents.exists()
    assert case.active_elements == []


def test_the_called_end_listener_runs_when_the_call_is_cancelled(users, tmp_path):
    """It fails here (an unknown name): the timer's step fails, located."""
    deploy(_child(tmp_path, "no_such_name"), users["analyst"])
    deploy(_caller(tmp_path), users["analyst"])
    case = _timed_out(users)
    incident = case.incidents.get(status="open")
    assert incident.bpmn_id == "Cc_Review"
    assert "end listener of 'Review' failed as it was cancelled" in incident.message


def test_a_child_deployed_after_its_cancellable_caller_is_accepted(users, tmp_path):
    deploy(_child(tmp_path, None), users["analyst"])
    deploy(_caller(tmp_path), users["analyst"])
    deploy(_child(tmp_path, "no_such_name"), users["analyst"])  # latest binding
    assert _timed_out(users).incidents.get(status="open").bpmn_id == "Cc_Review"


def test_a_grandchild_instance_runs_its_end_listener_with_its_parent(users, tmp_path):
    """Camunda 7 deletes the called instance's own called instances with it
    (deleteCascade), innermost first."""
    deploy(_child(tmp_path, "no_such_name"), users["analyst"])
    deploy(BPMN_DIR / "called_end_middle.bpmn", users["analyst"])
    deploy(_caller(tmp_path, callee="ce_middle"), users["analyst"])
    assert _timed_out(users).incidents.get(status="open").bpmn_id == "Cc_Review"


def test_a_callee_named_by_an_expression_runs_its_end_listener(users, tmp_path):
    deploy(_child(tmp_path, "no_such_name"), users["analyst"])
    deploy(_caller(tmp_path, callee="${callee}"), users["analyst"])
    case, _ = case_start(
        user=users["requester"], key="ce_caller", data={"callee": "ce_child"}
    )
    timers_fire_due_task()
    case.refresh_from_db()
    assert case.incidents.get(status="open").bpmn_id == "Cc_Review"


def test_a_version_stored_before_the_lines_were_kept_runs_them(users, tmp_path):
    """Its stored XML has the mark alone: the lines come from its original."""
    child = deploy(_child(tmp_path, "no_such_name"), users["analyst"])
    old = re.sub(rb'\s[\w-]+:endListenerScript="[^"]*"', b"", child.normalized_xml)
    assert b"endListenerScript" not in old and b'endListener="true"' in old
    ProcessVersion.objects.filter(pk=child.pk).update(
        normalized_xml=old, normalized_checksum=hashlib.sha256(old).hexdigest()
    )
    deploy(_caller(tmp_path), users["analyst"])
    assert _timed_out(users).incidents.get(status="open").bpmn_id == "Cc_Review"


def test_a_call_nothing_can_cancel_leaves_the_listener_to_the_task(users, tmp_path):
    """A non-interrupting timer leaves the call running: the listener runs when
    the task completes, as in Camunda 7."""
    deploy(_child(tmp_path, "no_such_name"), users["analyst"])
    deploy(_caller(tmp_path, interrupting=False), users["analyst"])
    case = _timed_out(users)
    assert case.status == "running" and not case.incidents.exists()


def test_cancelling_the_caller_runs_the_called_end_listeners(users, tmp_path):
    deploy(_child(tmp_path, "no_such_name"), users["analyst"])
    deploy(_caller(tmp_path, interrupting=False), users["analyst"])
    case, _ = case_start(user=users["requester"], key="ce_caller", data={})
    with pytest.raises(CancellationFailed, match="end listener of 'Review' failed"):
        case_cancel(user=users["requester"], case_id=case.pk)
    case.refresh_from_db()
    assert case.status == "running"
    case_cancel(user=users["requester"], case_id=case.pk, skip_custom_listeners=True)
    assert Case.objects.get(pk=case.pk).status == "cancelled"


def test_a_process_admin_cancels_the_case_of_such_an_incident(users, tmp_path):
    """The incident page's cancel (and its API) takes skipCustomListeners too;
    the failed listener's task was cancelled already, so it does not run again."""
    deploy(_child(tmp_path, "no_such_name"), users["analyst"])
    deploy(_caller(tmp_path), users["analyst"])
    incident = _timed_out(users).incidents.get(status="open")
    response = api_for(users["padmin"]).post(
        f"/api/v1/incidents/{incident.pk}/cancel-case/",
        {"reason": "timed out", "skip_custom_listeners": True},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["resolution"] == "case_cancelled"
    cancelled = AuditEvent.objects.get(
        case_id=incident.case_id, action="case.cancelled"
    )
    assert cancelled.payload["skip_custom_listeners"] is True


def test_an_uploaded_end_listener_script_attribute_is_dropped(users, tmp_path):
    """Only Laneway writes the lines a cancellation runs: a diagram's own
    spiffworkflow:endListenerScript never runs unchecked."""
    text = _child(tmp_path, None).read_text()
    text = text.replace(
        'id="Cc_Review"',
        'id="Cc_Review" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
        ' spiffworkflow:endListenerScript="reviewed = no_such_name"',
    )
    child = deploy(_write(tmp_path, "child", text), users["analyst"])
    assert b"endListenerScript" not in bytes(child.normalized_xml)
    deploy(_caller(tmp_path), users["analyst"])
    assert not _timed_out(users).incidents.exists()


def test_a_waiting_catch_event_of_the_called_instance_runs_its_end_listener(
    users, tmp_path
):
    """Camunda 7 fires the end listener of every activity active in the deleted
    instance: an intermediate catch event's too."""
    listener = END_LISTENER.replace("VALUE", "no_such_name")
    text = (BPMN_DIR / "called_end_catching_child.bpmn").read_text()
    text = text.replace("LISTENER", listener)
    deploy(_write(tmp_path, "child", text), users["analyst"])
    deploy(_caller(tmp_path), users["analyst"])
    incident = _timed_out(users).incidents.get(status="open")
    assert incident.bpmn_id == "Cc_Wait"
    assert "end listener of 'Wait' failed as it was cancelled" in incident.message
