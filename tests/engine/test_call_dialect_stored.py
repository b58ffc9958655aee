"""A call activity without camunda:in: the reading a version was deployed with.

A Camunda diagram's call activity without camunda:in passes no variable (as
Camunda 7); the dialect is decided on the upload and stored with the version.
A version stored by an earlier Laneway carries no dialect mark and passed
every variable: the cases it runs go on so, and only a new upload of the
diagram reads it as Camunda 7 does. Through `version_upload` and `case_start`,
the spec cache emptied as a restarted server finds it.
"""

import re

import pytest

from engine import spec_cache
from engine.models import Incident
from engine.services import case_start
from processes.models import ProcessVersion
from processes.services import version_upload
from tasks_app.models import HumanTask

pytestmark = pytest.mark.django_db

DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="D_stored" targetNamespace="http://laneway.example/test">
  <bpmn:process id="cv_no_in" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="Call" />
    <bpmn:callActivity id="Call" calledElement="cv_child" />
    <bpmn:sequenceFlow id="f2" sourceRef="Call" targetRef="E" />
    <bpmn:endEvent id="E" />
  </bpmn:process>
  <bpmn:process id="cv_child" isExecutable="true">
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


def _deploy(users) -> None:
    version_upload(user=users["analyst"], bpmn=DIAGRAM.encode(), filename="stored.bpmn")


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
    for version in ProcessVersion.objects.all():  # the file's processes
        stored = bytes(version.normalized_xml).decode()
        unmarked, found = re.subn(r'\s[\w-]+:dialect="camunda"', "", stored)
        assert found == 1, "the upload stores the dialect"
        version.normalized_xml = unmarked.encode()
        version.save(update_fields=["normalized_xml"])
    _start(users)
    assert not Incident.objects.exists()
    assert HumanTask.objects.filter(bpmn_id="Given", status="open").exists()
