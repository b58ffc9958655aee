"""A process end listener that fails as the instance ends stops the case at an
incident, as a failing script does (Camunda 7 rolls the completing step back and
raises); fixing the data and retrying ends the case with the listener's value.
Through the services and the incident API as a process admin.
"""

import pytest

from cockpit.services import case_data_change
from engine.models import Case, Incident
from engine.services import case_start
from processes.services import version_upload
from tests.clients import api_for

pytestmark = pytest.mark.django_db

BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="D" targetNamespace="x">
  <bpmn:process id="end_listener_fails" isExecutable="true">
    <bpmn:extensionElements>
      <camunda:executionListener event="end"
        expression="${execution.setVariable('closed_with', nobody_set_this)}" />
    </bpmn:extensionElements>
    <bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e" />
  </bpmn:process>
</bpmn:definitions>"""


def test_a_failing_process_end_listener_is_an_incident_retried_after_a_fix(users):
    version_upload(user=users["analyst"], bpmn=BPMN, filename="end.bpmn")
    case, _ = case_start(user=users["requester"], key="end_listener_fails", data={})
    case.refresh_from_db()
    assert case.status == Case.Status.RUNNING
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert "end listener of the process 'end_listener_fails' failed" in (
        incident.message
    )
    api = api_for(users["padmin"])
    shown = api.get(f"/api/v1/incidents/{incident.pk}/")
    assert shown.status_code == 200, shown.content
    case_data_change(
        user=users["padmin"],
        case_id=case.pk,
        set={"nobody_set_this": "fixed"},
        unset=[],
        reason="fix",
    )
    retried = api.post(f"/api/v1/incidents/{incident.pk}/retry/")
    assert retried.status_code == 200, retried.content
    case.refresh_from_db()
    assert case.status == Case.Status.COMPLETED
    assert case.data["closed_with"] == "fixed"
