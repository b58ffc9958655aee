"""Where an operation's result goes: Camunda 7 external-task semantics.

A Camunda task without camunda:resultVariable completes with its result's
variables (a dict merged into the case, but for its input parameters: local to
the task, as in Camunda 7), then its output parameters map over them; a bare
value there has nowhere to go and is an incident naming the fix.
Driven through the service-call functions engine.service_call_run calls.
"""

import pytest

from engine.models import Case, Incident, ServiceCall
from engine.services import case_start
from tasks_app.models import HumanTask
from tests.engine.test_service_retries import _run_once

pytestmark = pytest.mark.django_db(transaction=True)

_DIAGRAM = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="d" targetNamespace="http://laneway.example/bpmn">
  <bpmn:process id="results" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:serviceTask id="call" name="Call" {attrs}>{ext}</bpmn:serviceTask>
    <bpmn:userTask id="after" name="After" camunda:candidateGroups="approvers" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="after" />
    <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def called(users, settings):
    """Deploy the diagram, start a case, run its service call once; return the case."""
    from processes.services import version_upload

    settings.ENGINE_SERVICE_MAX_ATTEMPTS = 1

    def go(operation, attrs="", ext="", data=None, stored=None):
        settings.ENGINE_SERVICE_OPERATIONS = {"op": f"tests.operations.{operation}"}
        if not attrs.startswith("spiff"):
            attrs = f'camunda:type="external" camunda:topic="op" {attrs}'
        else:
            attrs = ""
            ext = (
                '<bpmn:extensionElements><spiffworkflow:serviceTaskOperator id="op"'
                f"{ext}><spiffworkflow:parameters />"
                "</spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"
            )
        xml = _DIAGRAM.format(attrs=attrs, ext=ext).encode()
        [deployed] = version_upload(
            user=users["analyst"], bpmn=xml, filename="results.bpmn"
        )
        version = deployed.version
        if stored is not None:  # rewrite the stored, normalized XML
            version.normalized_xml = stored(bytes(version.normalized_xml))
            version.normalized_checksum = "0" * 64  # not the cached spec
            version.save(update_fields=["normalized_xml", "normalized_checksum"])
        case, _ = case_start(
            user=users["requester"], key="results", data=data or {"amount": 3}
        )
        _run_once(ServiceCall.objects.get(case=case).pk)
        return Case.objects.get(pk=case.pk)

    return go


# An output parameter reading a variable the result does not have.
_UNMAPPABLE = (
    "<bpmn:extensionElements><camunda:inputOutput>"
    '<camunda:outputParameter name="status">${state}</camunda:outputParameter>'
    "</camunda:inputOutput></bpmn:extensionElements>"
)


def _after_is_open(case) -> bool:
    return HumanTask.objects.filter(case=case, bpmn_id="after").exists()


def test_a_dict_result_is_merged_into_the_case_variables(called):
    case = called("corpus_operation")
    assert _after_is_open(case)
    assert case.data == {"amount": 3, "ok": True}


def test_camunda_result_variable_keeps_the_whole_result(called):
    case = called("corpus_operation", attrs='camunda:resultVariable="answer"')
    # Without input parameters the operation saw every case variable.
    assert case.data["answer"] == {"ok": True, "amount": 3}
    assert "ok" not in case.data


def test_a_spiffarena_operator_keeps_spiffarena_result_variables(called):
    case = called("a_number", attrs="spiff", ext=' resultVariable="score"')
    assert case.data["score"] == 42
    # Without one, SpiffArena (SpiffWorkflow) names it spiff__<task id>_result.
    case = called("a_number", attrs="spiff")
    assert case.data["spiff__call_result"] == 42


def test_nothing_returned_completes_the_task_without_variables(called):
    case = called("nothing")
    assert _after_is_open(case)
    assert case.data == {"amount": 3}


def test_a_bare_value_without_result_variable_is_an_incident_naming_the_fix(called):
    case = called("a_number")
    assert not _after_is_open(case)
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert incident.bpmn_id == "call"
    assert "returned int 42" in incident.message
    assert "camunda:resultVariable" in incident.message
    assert case.data == {"amount": 3}


def test_an_output_parameter_that_cannot_be_evaluated_is_an_incident(called):
    case = called("corpus_operation", ext=_UNMAPPABLE)
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    assert "output parameter 'status'" in incident.message
    assert "state" in incident.message
    assert "status" not in case.data and "ok" not in case.data


def test_without_input_parameters_the_operation_sees_every_case_variable(called):
    from engine.services import service_call_variables

    case = called("corpus_operation", data={"amount": 3, "customer": {"id": 9}})
    call = ServiceCall.objects.get(case=case)
    assert service_call_variables(call) == {"amount": 3, "customer": {"id": 9}}
    assert service_call_variables(call, ["customer"]) == {"customer": {"id": 9}}
    assert case.data["customer"] == {"id": 9} and case.data["ok"] is True


def test_input_parameters_are_all_the_operation_sees(called):
    ext = (
        "<bpmn:extensionElements><camunda:inputOutput>"
        '<camunda:inputParameter name="total">${amount * 2}</camunda:inputParameter>'
        "</camunda:inputOutput></bpmn:extensionElements>"
    )
    case = called("corpus_operation", ext=ext, attrs='camunda:resultVariable="seen"')
    assert case.data["seen"] == {"ok": True, "total": 6}


def _input_total(outputs: str = "") -> str:
    """camunda:inputOutput with the input parameter total = amount * 2."""
    return (
        "<bpmn:extensionElements><camunda:inputOutput>"
        '<camunda:inputParameter name="total">${amount * 2}</camunda:inputParameter>'
        f"{outputs}</camunda:inputOutput></bpmn:extensionElements>"
    )


def test_input_parameter_names_in_the_result_stay_with_the_task(called):
    # corpus_operation echoes its parameters: total is local to the task's
    # scope (Camunda 7 setVariable), ok is not and reaches the case.
    case = called("corpus_operation", ext=_input_total())
    assert case.data == {"amount": 3, "ok": True}


def test_an_output_parameter_maps_an_input_parameter_over_the_result(called):
    outputs = (
        '<camunda:outputParameter name="total">${total + 1}</camunda:outputParameter>'
        '<camunda:outputParameter name="ok">mapped</camunda:outputParameter>'
    )
    case = called("corpus_operation", ext=_input_total(outputs))
    assert case.data == {"amount": 3, "ok": "mapped", "total": 7}


def test_a_result_variable_named_like_an_input_parameter_stays_local(called):
    ext = _input_total(
        '<camunda:outputParameter name="seen">${total}</camunda:outputParameter>'
    )
    attrs = 'camunda:resultVariable="total"'
    case = called("corpus_operation", ext=ext, attrs=attrs)
    assert case.data == {"amount": 3, "seen": {"ok": True, "total": 6}}


def test_a_diagram_stored_before_reads_its_outputs_mapping_as_camunda_7(called):
    # Stored XML is normalized once: a task with output parameters and no
    # connector was stored with resultMapping="outputs" (the result dropped).
    def before(xml: bytes) -> bytes:
        assert b'resultMapping="merge"' in xml
        return xml.replace(b'resultMapping="merge"', b'resultMapping="outputs"')

    ext = _input_total(
        '<camunda:outputParameter name="seen">${total}</camunda:outputParameter>'
    )
    case = called("corpus_operation", ext=ext, stored=before)
    assert case.data == {"amount": 3, "ok": True, "seen": 6}


def test_an_operation_with_a_fixed_signature_takes_the_variables_it_names(called):
    # Like a Camunda worker fetching the variables it needs: the others
    # (amount) are not forced on it.
    case = called("greet", data={"name": "Ann", "amount": 3})
    assert case.data["greeting"] == "Hello Ann"
    assert not case.has_incident


def test_skipping_such_an_incident_maps_the_data_like_a_result(called, users):
    from engine.errors import FormInvalid
    from engine.services import incident_skip

    case = called("corpus_operation", ext=_UNMAPPABLE)
    incident = Incident.objects.get(case=case, status=Incident.Status.OPEN)
    with pytest.raises(FormInvalid) as caught:  # still no `state` to map
        incident_skip(user=users["padmin"], incident_id=incident.pk, data={"x": 1})
    assert "output parameter 'status'" in str(caught.value)
    incident_skip(user=users["padmin"], incident_id=incident.pk, data={"state": "ok"})
    case.refresh_from_db()
    # Camunda 7: the data is set as the result is (state reaches the case), then
    # the output parameter maps it.
    assert case.data == {"amount": 3, "state": "ok", "status": "ok"}
    assert _after_is_open(case)
