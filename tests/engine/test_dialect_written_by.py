"""Who wrote the file decides its dialect where its extensions alone do not.

SpiffArena's modeler writes exporter="Camunda Modeler" too; it declares the
spiffworkflow namespace, while Camunda Modeler writes the execution platform
the author chose. A file SpiffArena wrote with a stray camunda: name (here
camunda:historyTimeToLive, which SpiffArena templates carry) runs as SpiffArena
runs it: a call activity without camunda:out brings the called process's
variables back (SpiffWorkflow's SubWorkflowTask), timer text is Python. A file
Camunda Modeler wrote for Camunda 7 keeps Camunda 7's reading even when it
declares SpiffWorkflow's namespace: nothing comes back without camunda:out
(Camunda 7's CallableElement: only the camunda:out variables), and timer text
that is not ISO 8601 is refused. A camunda:expression on a message event is
refused in the reading of the dialect (Camunda 7's BpmnParse runs it as the
throw's implementation, parseServiceTaskLike; SpiffArena's parser does not
read it). Through `version_upload` and `case_start`, as an analyst and a
requester would.
"""

import pytest

from engine.models import Case
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload

pytestmark = pytest.mark.django_db

SPIFFARENA = (
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'exporter="Camunda Modeler" exporterVersion="4.11.1"'
)
CAMUNDA_MODELER = (
    'xmlns:modeler="http://camunda.org/schema/modeler/1.0" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
    'exporter="Camunda Modeler" exporterVersion="5.16.0" '
    'modeler:executionPlatform="Camunda Platform" '
    'modeler:executionPlatformVersion="7.20.0"'
)


def _definitions(writer: str, processes: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="D_written" targetNamespace="http://bpmn.io/schema/bpmn" {writer}>
{processes}
</bpmn:definitions>""".encode()


CALL = """  <bpmn:process id="wb_caller" isExecutable="true"
      camunda:historyTimeToLive="180">
    <bpmn:startEvent id="S" />
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="Call" />
    <bpmn:callActivity id="Call" calledElement="wb_child" />
    <bpmn:sequenceFlow id="f2" sourceRef="Call" targetRef="E" />
    <bpmn:endEvent id="E" />
  </bpmn:process>
  <bpmn:process id="wb_child" isExecutable="true">
    <bpmn:startEvent id="CS" />
    <bpmn:sequenceFlow id="c1" sourceRef="CS" targetRef="Set" />
    <bpmn:scriptTask id="Set" scriptFormat="python">
      <bpmn:script>doubled = 10</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="c2" sourceRef="Set" targetRef="CE" />
    <bpmn:endEvent id="CE" />
  </bpmn:process>"""


def _run_call(users, writer: str) -> dict:
    version_upload(
        user=users["analyst"], bpmn=_definitions(writer, CALL), filename="call.bpmn"
    )
    case, _ = case_start(user=users["requester"], key="wb_caller", data={"amount": 5})
    case = Case.objects.get(pk=case.pk)
    assert case.status == Case.Status.COMPLETED
    return case.data


def test_a_file_spiffarena_wrote_with_a_stray_camunda_name_runs_as_spiffarena(users):
    assert _run_call(users, SPIFFARENA) == {"amount": 5, "doubled": 10}


def test_a_file_camunda_modeler_wrote_for_camunda_7_keeps_camunda_7s_reading(users):
    assert _run_call(users, CAMUNDA_MODELER) == {"amount": 5}


TIMER = """  <bpmn:process id="wb_timer" isExecutable="true"
      camunda:historyTimeToLive="180">
    <bpmn:startEvent id="S" />
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="Wait" />
    <bpmn:intermediateCatchEvent id="Wait" name="Try Again Later">
      <bpmn:timerEventDefinition>
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"PT10S"</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Wait" targetRef="E" />
    <bpmn:endEvent id="E" />
  </bpmn:process>"""


def test_timer_text_in_python_runs_in_a_file_spiffarena_wrote(users):
    version_upload(
        user=users["analyst"], bpmn=_definitions(SPIFFARENA, TIMER), filename="t.bpmn"
    )
    case, _ = case_start(user=users["requester"], key="wb_timer", data={})
    assert Case.objects.get(pk=case.pk).status == Case.Status.RUNNING


def test_timer_text_in_python_is_refused_in_a_file_camunda_modeler_wrote(users):
    with pytest.raises(BpmnInvalid) as refused:
        version_upload(
            user=users["analyst"],
            bpmn=_definitions(CAMUNDA_MODELER, TIMER),
            filename="t.bpmn",
        )
    errors = refused.value.details["errors"]
    (problem,) = [p for p in errors if p["element_id"] == "Wait"]
    assert "Camunda 7 reads such timer text as a literal" in problem["message"]
    assert problem["line"] == 12  # the timer text


def _message(expression: str) -> str:
    return f"""  <bpmn:process id="wb_message" isExecutable="true"
      camunda:historyTimeToLive="180">
    <bpmn:startEvent id="S" />
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="Notify" />
    <bpmn:intermediateThrowEvent id="Notify" name="Notify QA">
      <bpmn:messageEventDefinition messageRef="M"
          camunda:expression="{expression}" />
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="Notify" targetRef="E" />
    <bpmn:endEvent id="E" />
  </bpmn:process>
  <bpmn:message id="M" name="order_delayed" />"""


def _refusal(users, writer: str, expression: str) -> str:
    with pytest.raises(BpmnInvalid) as refused:
        version_upload(
            user=users["analyst"],
            bpmn=_definitions(writer, _message(expression)),
            filename="m.bpmn",
        )
    errors = refused.value.details["errors"]
    (problem,) = [p for p in errors if p["element_id"] == "Notify"]
    assert problem["line"] == 12  # the message event definition
    return str(problem["message"])


@pytest.mark.parametrize(
    ("writer", "expression", "reading"),
    [
        (
            CAMUNDA_MODELER,
            "reason_delayed",
            "reads such text (no ${...}) as a literal that does nothing",
        ),
        (
            CAMUNDA_MODELER,
            "${mailer.send(order)}",
            "Camunda 7 runs it as the event's implementation, as a service task",
        ),
        (
            SPIFFARENA,
            "reason_delayed",
            "SpiffArena does not read it (its parser reads "
            "spiffworkflow:messagePayload",
        ),
    ],
    ids=["camunda-literal", "camunda-juel", "spiffarena"],
)
def test_an_expression_on_a_message_event_is_refused_in_its_dialects_reading(
    users, writer, expression, reading
):
    message = _refusal(users, writer, expression)
    assert "The intermediate throw event 'Notify' (Notify QA) is refused" in message
    assert reading in message
