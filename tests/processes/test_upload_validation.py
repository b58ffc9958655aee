"""Hostile and broken uploads: every problem located, nothing stored or audited."""

from pathlib import Path

import pytest
from django.conf import settings
from lxml import etree

from audit.models import AuditEvent
from engine.spiff.limits import MAX_ELEMENTS
from processes.errors import BpmnInvalid
from processes.models import ProcessVersion
from processes.services import version_upload
from tests.timing import measured

pytestmark = pytest.mark.django_db

NEGATIVE = Path(settings.BASE_DIR).parent / "shared" / "corpus" / "negative"

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Defs" targetNamespace="http://laneway.example/test">
  <bpmn:process id="approval" name="Approval" isExecutable="true">
"""
TAIL = """  </bpmn:process>
</bpmn:definitions>
"""


def approval(
    condition_yes="${approved}",
    condition_no="${!approved}",
    timer="PT72H",
    extra="",
    flow_id=' id="to_review"',
):
    """A Camunda-style approval; the line of each part is fixed (see LINES)."""
    body = f"""    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow{flow_id} sourceRef="start" targetRef="review" />
    <bpmn:userTask id="review" name="Review" camunda:candidateGroups="Manager" />
    <bpmn:boundaryEvent id="late" attachedToRef="review">
      <bpmn:timerEventDefinition id="late_def">
        <bpmn:timeDuration>{timer}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="to_gw" sourceRef="review" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" />
    <bpmn:sequenceFlow id="yes" sourceRef="gw" targetRef="done">
      <bpmn:conditionExpression>{condition_yes}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="no" sourceRef="gw" targetRef="done">
      <bpmn:conditionExpression>{condition_no}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="late_flow" sourceRef="late" targetRef="done" />
    <bpmn:endEvent id="done" />
{extra}"""
    return (HEAD + body + TAIL).encode()


LINES = {"to_review": 7, "timer": 11, "yes": 17, "no": 20, "extra": 24}


def _rejected(users, data, filename="diagram.bpmn", **kwargs):
    versions, events = ProcessVersion.objects.count(), AuditEvent.objects.count()
    with pytest.raises(BpmnInvalid) as err:
        version_upload(user=users["analyst"], bpmn=data, filename=filename, **kwargs)
    assert ProcessVersion.objects.count() == versions
    assert AuditEvent.objects.count() == events
    assert err.value.code == "bpmn_invalid"
    errors = err.value.details["errors"]
    for problem in errors:
        assert set(problem) == {"message", "line", "element_id"}
    return errors


def test_the_well_formed_approval_deploys_with_juel_translated_and_timer_quoted(users):
    [deployed] = version_upload(
        user=users["analyst"], bpmn=approval(), filename="a.bpmn"
    )
    version = deployed.version
    assert bytes(version.original_xml) == approval()
    normalized = etree.fromstring(bytes(version.normalized_xml))
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    texts = [e.text for e in normalized.iterfind(".//bpmn:conditionExpression", ns)]
    # A whole condition must be a Boolean (Camunda 7 UelExpressionCondition); the
    # operand of ! is coerced (EL 2.1 §1.18.2), so !approved needs no check.
    assert texts == [
        "_el_condition_(approved, \"Condition of sequence flow 'yes'\")",
        "(not _el_bool_(approved))",
    ]
    assert normalized.find(".//bpmn:timeDuration", ns).text == "'PT72H'"
    assert version.normalized_checksum != version.checksum


def test_xxe_external_entity_is_rejected_without_reading_the_file(users, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" name="&xxe;" isExecutable="true"/>
</bpmn:definitions>""".encode()
    errors = _rejected(users, data)
    assert errors == [
        {
            "message": "DOCTYPE declarations (DTDs and entities) are not allowed.",
            "line": 2,
            "element_id": None,
        }
    ]
    assert "TOP-SECRET" not in str(errors)


def test_the_corpus_xxe_payload_is_rejected(users):
    path = NEGATIVE / "xxe-entity-invoice.bpmn"
    assert path.exists(), f"the shared corpus is missing: {path}"
    errors = _rejected(users, path.read_bytes())
    assert "DOCTYPE" in errors[0]["message"]


def test_external_dtd_over_the_network_is_rejected(users):
    data = b"""<?xml version="1.0"?>
<!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd">
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"/>"""
    errors = _rejected(users, data)
    assert "DOCTYPE" in errors[0]["message"]


def test_billion_laughs_is_rejected_quickly(users):
    entities = ['<!ENTITY l0 "ha">'] + [
        f'<!ENTITY l{i} "{"&l" + str(i - 1) + ";" * 1}'
        + f'{("&l" + str(i - 1) + ";") * 9}">'
        for i in range(1, 10)
    ]
    data = (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [' + "".join(entities) + "]>\n"
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'id="d"><bpmn:documentation>&l9;</bpmn:documentation></bpmn:definitions>'
    ).encode()
    with measured() as elapsed:
        errors = _rejected(users, data)
    elapsed.assert_within(2)  # expanded, the entities are 10**9 characters
    assert (
        "DOCTYPE" in errors[0]["message"] or "not well-formed" in errors[0]["message"]
    )


def test_file_over_the_size_limit_is_rejected_before_parsing(users, settings):
    settings.PROCESSES_UPLOAD_MAX_BYTES = 1024
    data = approval(extra="    <!--" + "x" * 2000 + "-->\n")
    errors = _rejected(users, data, filename="big.bpmn")
    assert "larger than the 1 KiB upload limit" in errors[0]["message"]
    assert errors[0]["message"].startswith("big.bpmn")


def test_deeply_nested_xml_is_rejected(users):
    data = b"<a>" * 100_000 + b"</a>" * 100_000
    errors = _rejected(users, data)
    assert errors[0]["message"].startswith("The file is not well-formed XML")


@pytest.mark.parametrize(
    "data", [b"", b"   ", b"%PDF-1.4 binary", b"<bpmn:definitions"]
)
def test_non_xml_is_rejected_with_a_located_message(users, data):
    errors = _rejected(users, data)
    assert len(errors) == 1
    assert (
        "empty" in errors[0]["message"] or "not well-formed XML" in errors[0]["message"]
    )


def test_xml_that_is_not_bpmn_is_rejected(users):
    errors = _rejected(users, b'<?xml version="1.0"?>\n<html><body/></html>')
    assert errors == [
        {
            "message": "Not a BPMN 2.0 file: the root element is <html>, "
            "expected <bpmn:definitions>.",
            "line": 2,
            "element_id": None,
        }
    ]


def test_bpmn_without_executable_process_is_rejected(users):
    data = approval().replace(b'isExecutable="true"', b'isExecutable="false"')
    errors = _rejected(users, data)
    assert [e["message"] for e in errors] == [
        "The file has no executable process: tick 'Executable' on the process "
        '(isExecutable="true").'
    ]


def test_juel_method_call_is_rejected_naming_flow_expression_and_line(users):
    errors = _rejected(users, approval(condition_yes="${pricing.vat(amount) > 21}"))
    assert errors == [
        {
            "message": "Condition of sequence flow 'yes': "
            "'${pricing.vat(amount) > 21}' cannot be translated from JUEL: "
            "the method vat() is not supported: it is Java code (a bean's or an "
            "object's method) with no Python equivalent here (only equals(), "
            "contains(), size(), isEmpty(), prop(), hasProp(), numberValue(), "
            "stringValue(), boolValue()).",
            "line": LINES["yes"],
            "element_id": "yes",
        }
    ]


def test_feel_outside_the_dmn_subset_is_rejected_naming_flow_and_line(users):
    data = approval(condition_no='=some r in risks satisfies r = "red"')
    errors = _rejected(users, data)
    assert len(errors) == 1
    assert errors[0]["element_id"] == "no" and errors[0]["line"] == LINES["no"]
    assert "is FEEL outside the subset Laneway runs" in errors[0]["message"]


def test_all_problems_are_reported_at_once_in_line_order(users):
    data = approval(
        condition_yes="${a.b()}", condition_no="approved ==", timer="${x +}"
    )
    errors = _rejected(users, data)
    assert [(e["line"], e["element_id"]) for e in errors] == [
        (LINES["timer"], "late"),
        (LINES["yes"], "yes"),
        (LINES["no"], "no"),
    ]
    # A Camunda diagram: a condition without ${...} is literal text there.
    assert "has no ${...}: Camunda 7 reads it as literal text" in errors[2]["message"]


def test_a_sequence_flow_without_id_gets_one_in_the_normalized_xml_only(users):
    data = approval(flow_id="")
    [deployed] = version_upload(user=users["analyst"], bpmn=data, filename="a.bpmn")
    version = deployed.version
    assert bytes(version.original_xml) == data
    normalized = etree.fromstring(bytes(version.normalized_xml))
    [flow] = normalized.xpath(
        "//bpmn:sequenceFlow[@sourceRef='start']",
        namespaces={"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"},
    )
    assert flow.get("id") == "Flow_start_review"


def test_compensation_start_event_of_event_subprocess_is_rejected(users):
    # Error and escalation starts run (tests/engine/test_conformance_events.py).
    extra = """    <bpmn:subProcess id="on_error" triggeredByEvent="true">
      <bpmn:startEvent id="caught"><bpmn:compensateEventDefinition /></bpmn:startEvent>
    </bpmn:subProcess>
"""
    errors = _rejected(users, approval(extra=extra))
    [caught] = [e for e in errors if e["element_id"] == "caught"]
    assert caught["line"] == LINES["extra"] + 1
    assert (
        "compensate start event 'caught' of event sub-process 'on_error'"
        in caught["message"]
    )


def test_unregistered_expression_is_rejected_and_registered_one_deploys(
    users, settings
):
    extra = (
        '    <bpmn:serviceTask id="notify"'
        ' camunda:expression="${mailer.send(execution)}" />\n'
    )
    errors = _rejected(users, approval(extra=extra))
    assert errors[0]["element_id"] == "notify" and errors[0]["line"] == LINES["extra"]
    assert "'mailer.send(execution)', which is not registered" in errors[0]["message"]
    settings.ENGINE_SERVICE_OPERATIONS = {
        "mailer.send(execution)": "tests.operations.send_mail"
    }
    # The task is unconnected, which SpiffWorkflow accepts; the operation matters.
    [deployed] = version_upload(
        user=users["analyst"], bpmn=approval(extra=extra), filename="svc.bpmn"
    )
    assert b"serviceTaskOperator" in bytes(deployed.version.normalized_xml)


def test_unregistered_topic_deploys_as_an_external_task_with_a_notice(users):
    extra = (
        '    <bpmn:serviceTask id="notify" camunda:type="external"'
        ' camunda:topic="send-mail" />\n'
    )
    [deployed] = version_upload(
        user=users["analyst"], bpmn=approval(extra=extra), filename="svc.bpmn"
    )
    [notice] = [w for w in deployed.version.warnings if w["element_id"] == "notify"]
    assert notice["line"] == LINES["extra"]
    assert (
        "waits for an external worker to fetch topic 'send-mail'" in (notice["message"])
    )


def test_missing_called_process_and_decision_are_rejected(users):
    extra = """    <bpmn:callActivity id="call" calledElement="elsewhere" />
    <bpmn:businessRuleTask id="rule" camunda:decisionRef="routing" />
"""
    errors = _rejected(users, approval(extra=extra))
    found = {e["element_id"]: e for e in errors}
    assert found["call"]["line"] == LINES["extra"]
    assert "calls the process 'elsewhere'" in found["call"]["message"]
    assert found["rule"]["line"] == LINES["extra"] + 1
    assert "uses the decision 'routing'" in found["rule"]["message"]


def test_javascript_script_task_is_rejected(users):
    extra = (
        '    <bpmn:scriptTask id="calc" scriptFormat="javascript">'
        "<bpmn:script>x = 1;</bpmn:script></bpmn:scriptTask>\n"
    )
    errors = _rejected(users, approval(extra=extra))
    assert errors[0]["element_id"] == "calc" and "'javascript'" in errors[0]["message"]


def test_api_answers_400_bpmn_invalid_with_the_problem_list(users, client):
    client.force_login(users["analyst"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("bad.bpmn", approval(condition_no="=x + "))
    response = client.post(
        "/api/v1/processes/", {"file": upload}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "bpmn_invalid"
    assert body["details"]["errors"][0]["line"] == LINES["no"]
    assert ProcessVersion.objects.count() == 0


def test_error_start_event_outside_an_event_subprocess_is_rejected(users):
    # Only an event sub-process can start with an error; elsewhere it waits forever.
    extra = """    <bpmn:subProcess id="inner">
      <bpmn:startEvent id="inner_start"><bpmn:errorEventDefinition /></bpmn:startEvent>
    </bpmn:subProcess>
"""
    errors = _rejected(users, approval(extra=extra))
    [start] = [e for e in errors if e["element_id"] == "inner_start"]
    assert start["line"] == LINES["extra"] + 1
    assert "is not in an event sub-process" in start["message"]


def test_a_diagram_over_the_element_limit_is_refused_before_any_other_check(users):
    # Unconnected tasks: any check that ran would report them too.
    extra = "".join(
        f'    <bpmn:userTask id="many_{i}" />\n' for i in range(MAX_ELEMENTS)
    )
    data = approval(extra=extra)
    with_ids = [e for e in etree.fromstring(data).iter("{*}*") if e.get("id")]
    first_over = with_ids[MAX_ELEMENTS]
    with measured() as elapsed:
        errors = _rejected(users, data, filename="huge.bpmn")
    elapsed.assert_within(2)
    assert errors == [
        {
            "message": f"The diagram has {len(with_ids):,} BPMN elements; at most "
            f"{MAX_ELEMENTS:,} are accepted in one file. Split it into processes "
            "that call each other (call activities).",
            "line": first_over.sourceline,
            "element_id": first_over.get("id"),
        }
    ]
