"""Adapter-level: message and signal names with ${...} (no database).

How a name as drawn becomes the name a case waits for or sends: its JUEL
translated at parse time, each part coerced to text as EL 2.1 §1.18.1 does,
resolved when a catch is reached or a throw throws. The API tests
(test_event_name_expressions.py) and the scenarios cover correlation.
"""

import json

import pytest

from engine.spiff import (
    MigrationRefused,
    processes_compile,
    workflow_migrate,
    workflow_start,
    workflow_start_by_message,
    workflow_start_by_signal,
)
from engine.spiff.event_name_checks import name_expression, name_fits
from engine.spiff.juel import JuelError
from engine.spiff.messages import message_catches
from engine.spiff.scripting import script_engine
from engine.spiff.serialization import state_load
from engine.spiff.waiting import waiting_messages
from tests.conftest import BPMN_DIR

KINDS = BPMN_DIR.parent / "conformance" / "bpmn" / "msgexpr_kinds.bpmn"
SIGNALS = BPMN_DIR.parent / "conformance" / "bpmn" / "sigexpr.bpmn"


def _process(path, key):
    return next(p for p in processes_compile(path.read_bytes()) if p.key == key)


@pytest.mark.parametrize(
    ("name", "python"),
    [
        ("order-${orderId}", "_el_text_('order-', orderId)"),
        ("${orderId}", "orderId"),
        ("#{orderId}", "orderId"),
        ("a-${x.y}-${z}", "_el_text_('a-', _el_get_(x, 'y'), '-', z)"),
        ("${'}'}-b", "_el_text_('}', '-b')"),
        ("price-\\${x}", "'price-${x}'"),
        ("plain", None),
    ],
)
def test_a_name_translates_to_python_as_composite_text(name, python):
    assert name_expression(name) == python


@pytest.mark.parametrize("name", ["order-${orderId", "a-${x.get(0)}", "${}"])
def test_a_name_outside_the_subset_is_refused(name):
    with pytest.raises(JuelError):
        name_expression(name)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (42, "order-42"),
        ("A-1", "order-A-1"),
        (None, "order-"),
        (True, "order-true"),
        (2.5, "order-2.5"),
        (1e7, "order-1.0E7"),
        (1.5e-4, "order-1.5E-4"),
    ],
)
def test_each_part_is_coerced_to_text_as_el_does(value, text):
    env = script_engine().environment
    assert env.evaluate(name_expression("order-${v}"), {"v": value}) == text


@pytest.mark.parametrize("value", [[1], {"a": 1}])
def test_a_map_or_list_part_has_no_text_here(value):
    env = script_engine().environment
    with pytest.raises(Exception, match="Java text form is not reproduced"):
        env.evaluate(name_expression("order-${v}"), {"v": value})


def test_a_drawn_name_fits_the_names_it_can_resolve_to():
    assert name_fits("order-${orderId}", "order-42") is True
    assert name_fits("order-${orderId}", "invoice-42") is False
    assert name_fits("${a}-${b}", "x-y") is True
    assert name_fits("${orderId}", "anything") is False  # claims no name
    assert name_fits("plain", "plain") is True
    process = _process(KINDS, "msgexpr_boundary")
    assert message_catches(process, "cancel-7") is True
    assert message_catches(process, "paid-7") is False


def test_a_catch_keeps_the_name_it_resolved_when_its_variable_changes_after_reload():
    process = _process(KINDS, "msgexpr_boundary")
    outcome = workflow_start(process, data={"orderId": "A-5"})
    state = json.loads(json.dumps(outcome.state))
    assert [m.name for m in outcome.waiting_messages] == ["cancel-A-5"]

    workflow = state_load(state, process)
    for task in workflow.get_tasks():
        task.data["orderId"] = "B-6"

    assert [m.name for m in waiting_messages(workflow)] == ["cancel-A-5"]


def test_throws_and_send_tasks_send_the_names_they_resolve():
    outcome = workflow_start(_process(KINDS, "msgexpr_sender"), data={"orderId": 43})

    assert [(m.name, m.bpmn_id) for m in outcome.sent_messages] == [
        ("paid-43", "SnPaid"),
        ("cancel-43", "SnCancel"),
    ]
    signals = workflow_start(_process(SIGNALS, "sigexpr_throw"), data={"zone": "s"})
    assert [s.name for s in signals.thrown_signals] == ["alarm-s", "stop-s"]


def test_a_throw_that_cannot_resolve_its_name_fails_there():
    outcome = workflow_start(_process(KINDS, "msgexpr_sender"), data={})

    assert outcome.failure is not None
    assert outcome.failure.bpmn_id == "SnPaid"
    assert "paid-${orderId}" in outcome.failure.message
    assert outcome.sent_messages == ()


def _catch_version(name: str):
    xml = KINDS.read_bytes().replace(b"cancel-${orderId}", name.encode())
    return _process_bytes(xml, "msgexpr_boundary")


def _process_bytes(xml: bytes, key: str):
    return next(p for p in processes_compile(xml) if p.key == key)


def test_a_case_moved_to_a_version_with_an_expression_waits_for_the_resolved_name():
    v1 = _catch_version("cancel")
    outcome = workflow_start(v1, data={"orderId": "A-5"})
    assert [m.name for m in outcome.waiting_messages] == ["cancel"]

    moved = workflow_migrate(
        v1, _catch_version("stop-${orderId}"), json.loads(json.dumps(outcome.state)), {}
    )

    assert [m.name for m in moved.waiting_messages] == ["stop-A-5"]


def test_a_move_to_a_name_the_case_cannot_resolve_is_refused():
    v1 = _catch_version("cancel")
    outcome = workflow_start(v1, data={})

    with pytest.raises(MigrationRefused) as refused:
        workflow_migrate(v1, _catch_version("stop-${orderId}"), outcome.state, {})

    [problem] = refused.value.problems
    assert problem.element_id == "BdCancel"
    assert "cannot be resolved" in problem.message


ESP = BPMN_DIR.parent / "conformance" / "bpmn" / "msgexpr_esp.bpmn"


def _esp_started_by(kind: str):
    ref = "messageRef" if kind == "message" else "signalRef"
    xml = (
        ESP.read_bytes()
        .replace(
            b'<bpmn:startEvent id="EsStart"/>',
            f'<bpmn:startEvent id="EsStart"><bpmn:{kind}EventDefinition id="S0" '
            f'{ref}="Begin"/></bpmn:startEvent>'.encode(),
        )
        .replace(
            b"<bpmn:process id",
            f'<bpmn:{kind} id="Begin" name="begin"/><bpmn:process id'.encode(),
            1,
        )
    )
    return processes_compile(xml)[0]


def test_a_message_start_brings_the_variables_an_event_subprocess_name_reads():
    outcome = workflow_start_by_message(
        _esp_started_by("message"), name="begin", payload={"doc": "D1"}, correlation={}
    )

    assert outcome.failure is None
    assert [m.name for m in outcome.waiting_messages] == ["note-D1"]


def test_a_signal_start_brings_the_variables_an_event_subprocess_name_reads():
    process = _esp_started_by("signal")
    outcome = workflow_start_by_signal(process, name="begin", payload={"doc": "D2"})
    assert [m.name for m in outcome.waiting_messages] == ["note-D2"]

    bare = workflow_start_by_signal(process, name="begin", payload=None)
    assert bare.failure is not None
    assert bare.failure.bpmn_id == "EsNoteStart"


def test_a_name_longer_than_a_subscription_holds_is_an_incident():
    outcome = workflow_start(
        _process(KINDS, "msgexpr_boundary"), data={"orderId": "x" * 250}
    )

    assert outcome.failure is not None
    assert "over 255" in outcome.failure.message
    assert outcome.waiting_messages == ()
