"""A call activity without camunda:in or camunda:out: the reading of its version.

A Camunda diagram's call activity without camunda:in passes no variable (as
Camunda 7), a SpiffArena or plain BPMN one's without camunda:out brings the
called process's variables back (as SpiffWorkflow); the dialect is decided on
the upload and stored with the version. A version stored by an earlier Laneway
carries no dialect mark, passed every variable and brought nothing back: the
cases it runs go on so, and only a new upload of the diagram reads it as its
dialect does. Through `version_upload` and `case_start`, the spec cache
emptied as a restarted server finds it.
"""

import re

import pytest

from engine import spec_cache
from engine.models import Case, Incident
from engine.services import case_start
from processes.models import ProcessVersion
from processes.services import version_upload
from tasks_app.models import HumanTask

pytestmark = pytest.mark.django_db


def _caller(key: str, called: str) -> str:
    return f"""  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="Call" />
    <bpmn:callActivity id="Call" calledElement="{called}" />
    <bpmn:sequenceFlow id="f2" sourceRef="Call" targetRef="E" />
    <bpmn:endEvent id="E" />
  </bpmn:process>
"""


DIAGRAM = (
    """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="D_stored" targetNamespace="http://laneway.example/test">
"""
    + _caller("cv_no_in", "cv_child")
    + """  <bpmn:process id="cv_child" isExecutable="true">
    <bpmn:startEvent id="CS" />
    <bpmn:sequenceFlow id="c1" sourceRef="CS" targetRef="Size" />
    <bpmn:exclusiveGateway id="Size" default="c3" />
    <bpmn:sequenceFlow id="c2" sourceRef="Size" targetRef="Given">
      <bpmn:conditionExpression>${amount &gt; 0}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="c3" sourceRef="Size" targetRef="Missing" />
    <bpmn:userTask id="Given" camunda:candidateGroups="approvers" />
    <bpmn:userTask id="Missing" camunda:candidateGroups="approvers" />
    <bpmn:sequenceFlow id="c4" sourceRef="Given" targetRef="CE" />
    <bpmn:sequenceFlow id="c5" sourceRef="Missing" targetRef="CE" />
    <bpmn:endEvent id="CE" />
  </bpmn:process>
</bpmn:definitions>"""
)


# A plain BPMN diagram (no extension of any engine): the called process sets
# doubled, which comes back to the caller without camunda:out.
PLAIN = (
    """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="D_stored_plain" targetNamespace="http://laneway.example/test">
"""
    + _caller("co_plain", "co_child")
    + """  <bpmn:process id="co_child" isExecutable="true">
    <bpmn:startEvent id="CS" />
    <bpmn:sequenceFlow id="c1" sourceRef="CS" targetRef="Double" />
    <bpmn:scriptTask id="Double" scriptFormat="python">
      <bpmn:script>doubled = amount * 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="c2" sourceRef="Double" targetRef="CE" />
    <bpmn:endEvent id="CE" />
  </bpmn:process>
</bpmn:definitions>"""
)


def _deploy(users, diagram: str = DIAGRAM) -> None:
    version_upload(user=users["analyst"], bpmn=diagram.encode(), filename="stored.bpmn")


def _unmark(dialect: str) -> None:
    """Remove the dialect mark from the stored versions (as an earlier Laneway)."""
    for version in ProcessVersion.objects.all():  # the file's processes
        stored = bytes(version.normalized_xml).decode()
        unmarked, found = re.subn(rf'\s[\w-]+:dialect="{dialect}"', "", stored)
        assert found == 1, "the upload stores the dialect"
        version.normalized_xml = unmarked.encode()
        version.save(update_fields=["normalized_xml"])


def _start(users):
    spec_cache._cache.clear()
    case, _ = case_start(user=users["requester"], key="cv_no_in", data={"amount": 5})
    return case


def test_a_new_upload_passes_nothing_without_camunda_in(users):
    _deploy(users)
    _start(users)
    assert Incident.objects.filter(message__contains="amount").exists()
    assert not HumanTask.objects.filter(bpmn_id="Given").exists()


def test_a_version_stored_without_the_dialect_mark_keeps_passing_every_variable(
    users,
):
    _deploy(users)
    _unmark("camunda")
    _start(users)
    assert not Incident.objects.exists()
    assert HumanTask.objects.filter(bpmn_id="Given", status="open").exists()


def _start_plain(users) -> dict:
    spec_cache._cache.clear()
    case, _ = case_start(user=users["requester"], key="co_plain", data={"amount": 5})
    case = Case.objects.get(pk=case.pk)
    assert case.status == Case.Status.COMPLETED
    return case.data


def test_a_new_plain_upload_brings_the_called_variables_back(users):
    _deploy(users, PLAIN)
    assert _start_plain(users) == {"amount": 5, "doubled": 10}


def test_a_version_stored_without_the_dialect_mark_keeps_bringing_nothing_back(
    users,
):
    _deploy(users, PLAIN)
    _unmark("bpmn")
    assert _start_plain(users) == {"amount": 5}
