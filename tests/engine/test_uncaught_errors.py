"""An uncaught BPMN error ends its path and is audited (error.uncaught), through
the real services; the outcomes themselves are conformance scenarios
(error_end_uncaught_is_none_end, c7_external_bpmn_error_uncaught_*,
c7_called_error_end_uncaught_call_goes_on)."""

import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from engine.models import Incident
from engine.selectors import case_timeline
from tasks_app.story import case_story
from tests.engine.test_bpmn_as_drawn import _complete, _deploy, _open, _start

pytestmark = pytest.mark.django_db


def test_an_uncaught_error_end_event_is_audited_and_on_the_timeline(users):
    # Camunda 7 logs BpmnBehaviorLogger.missingBoundaryCatchEvent and ends the
    # execution (BpmnExceptionHandler.propagateError); Laneway also audits it.
    user = users["manager1"]
    user.groups.add(Group.objects.get_or_create(name="approvers")[0])
    case = _start(users, _deploy(users, "error_end_uncaught.bpmn"))
    _complete(case, "Task_A", user)
    assert _open(case) == ["Task_Beside"]
    [event] = AuditEvent.objects.filter(case_id=case.pk, action="error.uncaught")
    assert event.task_ref == "End_Error"
    assert event.payload["code"] == "broken"
    assert not Incident.objects.filter(case=case).exists()
    [entry] = [e for e in case_timeline(case=case) if e.action == "error.uncaught"]
    assert entry.element == "End_Error" and entry.details["code"] == "broken"
    _, story = case_story(case=case)
    [said] = [e["words"] for e in story if e["action"] == "error.uncaught"]
    assert said.startswith("Nothing caught the error") and "that path ended" in said
