"""A form kept in a file not uploaded (or not read) is warned of at upload (issue 9).

Camunda's embedded forms (`camunda:formKey="embedded:…"`) and SpiffArena's
JSON-schema forms (`formJsonSchemaFilename`) not uploaded with the diagram: the
task deploys, but its page shows only the fields drawn on it, so the analyst is
told, located, that what the form asks for must come from the API or drawn fields.
Uploaded JSON schemas are shown and checked (tests/tasks_app/test_spiff_json_forms.py).
Camunda Forms (`camunda-forms:` keys, `camunda:formRef`) are read from the .form
files uploaded with the diagram, and refused when missing
(tests/tasks_app/test_camunda_forms.py).
"""

import pytest

from processes.services import version_upload

pytestmark = pytest.mark.django_db


def diagram(task_inside: str = "", task_attrs: str = "") -> bytes:
    """A start event and one user task (on line 8)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="forms" name="Forms" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:userTask id="approve" name="Approve" camunda:candidateGroups="Manager"{task_attrs}>{task_inside}</bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve" />
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="done" />
    <bpmn:endEvent id="done" />
  </bpmn:process>
</bpmn:definitions>
""".encode()  # noqa: E501


SPIFF_FORM = """<bpmn:extensionElements><spiffworkflow:properties>
      <spiffworkflow:property name="formJsonSchemaFilename"
        value="approve-schema.json" />
    </spiffworkflow:properties></bpmn:extensionElements>"""


@pytest.mark.parametrize(
    ("inside", "attrs", "key"),
    [
        ("", ' camunda:formKey="embedded:app:forms/approve.html"', "embedded:app"),
        (SPIFF_FORM, "", "approve-schema.json"),
    ],
)
def test_a_form_in_a_file_deploys_with_a_located_warning(users, inside, attrs, key):
    [deployed] = version_upload(
        user=users["analyst"], bpmn=diagram(inside, attrs), filename="forms.bpmn"
    )
    [warning] = deployed.version.warnings
    assert warning["element_id"] == "approve" and warning["line"] == 8
    assert key in warning["message"]
    assert "shows no fields" in warning["message"]


def test_a_form_key_with_drawn_fields_is_not_warned_of(users):
    fields = """<bpmn:extensionElements><camunda:formData>
      <camunda:formField id="approved" type="boolean" />
    </camunda:formData></bpmn:extensionElements>"""
    [deployed] = version_upload(
        user=users["analyst"],
        bpmn=diagram(fields, ' camunda:formKey="embedded:app:forms/approve.html"'),
        filename="forms.bpmn",
    )
    assert deployed.version.warnings == []
