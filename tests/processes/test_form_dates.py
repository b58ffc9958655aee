"""Camunda form dates: dd/MM/yyyy by default, a datePattern when named (issue 9)."""

import pytest

from engine.errors import FormInvalid
from engine.services import case_start
from processes.errors import BpmnInvalid
from processes.services import version_upload

pytestmark = pytest.mark.django_db


def diagram(field: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="leave" name="Leave" isExecutable="true">
    <bpmn:startEvent id="start">
      <bpmn:extensionElements>
        <camunda:formData>
          {field}
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" camunda:candidateGroups="Manager" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


def test_a_date_field_reads_camundas_dd_mm_yyyy_and_iso_and_stores_iso(users):
    field = '<camunda:formField id="day" type="date" defaultValue="01/02/2030" />'
    [deployed] = version_upload(
        user=users["analyst"], bpmn=diagram(field), filename="d.bpmn"
    )
    from engine.spec_cache import spec_for

    [start_field] = spec_for(deployed.version).meta.start.form
    assert start_field.default == "2030-02-01"  # 1 February, as Camunda reads it
    case, _ = case_start(
        user=users["requester"], key="leave", data={"day": "15/03/2030"}
    )
    assert case.data["day"] == "2030-03-15"
    case, _ = case_start(
        user=users["requester"], key="leave", data={"day": "2030-04-09"}
    )
    assert case.data["day"] == "2030-04-09"


def test_a_named_date_pattern_is_read_and_other_forms_are_refused(users):
    field = """<camunda:formField id="day" type="date">
            <camunda:validation>
              <camunda:constraint name="datePattern" config="MM/dd/yyyy" />
            </camunda:validation>
          </camunda:formField>"""
    version_upload(user=users["analyst"], bpmn=diagram(field), filename="d.bpmn")
    case, _ = case_start(
        user=users["requester"], key="leave", data={"day": "03/15/2030"}
    )
    assert case.data["day"] == "2030-03-15"
    with pytest.raises(FormInvalid) as err:
        case_start(user=users["requester"], key="leave", data={"day": "15/03/2030"})
    assert err.value.details["fields"]["day"] == [
        "Enter a date as YYYY-MM-DD or MM/dd/yyyy."
    ]


@pytest.mark.parametrize(
    ("field", "why"),
    [
        (
            '<camunda:formField id="day" type="date">'
            '<camunda:properties><camunda:property id="datePattern" '
            'value="dd.MM.yyyy HH:mm" /></camunda:properties></camunda:formField>',
            "is not supported",
        ),
        (
            '<camunda:formField id="day" type="date" defaultValue="31/31/2030" />',
            "is not a date as dd/MM/yyyy",
        ),
    ],
)
def test_a_date_pattern_or_default_that_cannot_be_read_is_refused_located(
    users, field, why
):
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=diagram(field), filename="d.bpmn")
    [problem] = err.value.details["errors"]
    assert problem["element_id"] == "start" and problem["line"] == 9
    assert why in problem["message"]
