"""Adapter-level message tests: waiting messages, payload, correlation."""

import json

import pytest

from engine.spiff import (
    MessageNotCaught,
    WaitingMessage,
    message_start_names,
    process_waits_for_events,
    processes_compile,
    workflow_complete_user_task,
    workflow_deliver_message,
    workflow_start,
    workflow_start_by_message,
    workflow_waiting_messages,
)
from tests.conftest import BPMN_DIR


def _process(name):
    return processes_compile((BPMN_DIR / f"{name}.bpmn").read_bytes())[0]


def _round_trip(state):
    return json.loads(json.dumps(state))


def _deliver(process, outcome, name, payload=None, correlation=None):
    return workflow_deliver_message(
        process,
        _round_trip(outcome.state),
        name=name,
        payload=payload or {},
        correlation=correlation or {},
    )


def test_intermediate_catch_waits_and_merges_payload_into_case_data():
    process = _process("payment_wait")
    outcome = workflow_start(process, data={"order_id": "A-1"})
    assert outcome.waiting_messages == ()
    outcome = workflow_complete_user_task(
        process,
        _round_trip(outcome.state),
        task_id=outcome.ready_user_tasks[0].task_id,
        data={},
    )
    assert outcome.waiting_messages == (
        WaitingMessage("payment_received", "wait_payment", {}),
    )
    assert workflow_waiting_messages(process, _round_trip(outcome.state)) == (
        outcome.waiting_messages
    )

    done = _deliver(process, outcome, "payment_received", {"amount": 5})

    assert done.completed is True
    assert done.data == {"order_id": "A-1", "amount": 5}
    assert [s.bpmn_id for s in done.steps] == ["wait_payment", "end"]


def test_message_nobody_waits_for_raises_message_not_caught():
    process = _process("payment_wait")
    outcome = workflow_start(process, data={})
    with pytest.raises(MessageNotCaught):
        _deliver(process, outcome, "payment_received")


def test_boundary_message_cancels_the_user_task():
    process = _process("order_cancel_boundary")
    outcome = workflow_start(process, data={})
    assert [m.bpmn_id for m in outcome.waiting_messages] == ["cancelled"]
    assert len(outcome.ready_user_tasks) == 1

    done = _deliver(process, outcome, "order_cancelled", {"why": "dup"})

    assert done.completed is True
    assert done.ready_user_tasks == ()
    assert [s.bpmn_id for s in done.steps] == ["cancelled", "end_cancelled"]


def test_spiff_correlation_is_checked_and_payload_lands_in_message_variable():
    process = _process("spiff_correlated_reply")
    outcome = workflow_start(process, data={"request_no": "R-1"})
    assert outcome.waiting_messages == (
        WaitingMessage("supplier_quote_received", "wait_quote", {"quote_ref": "R-1"}),
    )
    for wrong in ({"quote_ref": "R-2"}, {}):
        with pytest.raises(MessageNotCaught):
            _deliver(process, outcome, "supplier_quote_received", {"p": 1}, wrong)

    done = _deliver(
        process, outcome, "supplier_quote_received", {"price": 3}, {"quote_ref": "R-1"}
    )

    assert done.completed is True
    assert done.data == {"request_no": "R-1", "quote": {"quote_ref": "R-1", "price": 3}}


def test_receive_task_and_event_based_gateway_report_their_messages():
    process = _process("message_shapes")
    outcome = workflow_start(process, data={})
    assert [m.name for m in outcome.waiting_messages] == ["ack"]
    outcome = _deliver(process, outcome, "ack", {"a": 1})
    assert [(m.name, m.bpmn_id) for m in outcome.waiting_messages] == [
        ("answer_no", "which_answer"),
        ("answer_yes", "which_answer"),
    ]
    done = _deliver(process, outcome, "answer_yes", {"b": 2})
    assert done.completed is True
    assert done.data == {"a": 1, "b": 2}
    assert "end_yes" in [s.bpmn_id for s in done.steps]


def test_message_start_event_starts_with_the_payload():
    process = _process("message_start")
    assert message_start_names(process) == ("order_placed",)
    assert message_start_names(_process("payment_wait")) == ()
    outcome = workflow_start_by_message(
        process, name="order_placed", payload={"order_id": "Z"}, correlation={}
    )
    assert outcome.data == {"order_id": "Z"}
    assert [t.bpmn_id for t in outcome.ready_user_tasks] == ["check_order"]
    with pytest.raises(MessageNotCaught):
        workflow_start_by_message(process, name="other", payload={}, correlation={})


@pytest.mark.parametrize(
    ("name", "waits"),
    [
        ("payment_wait", True),  # intermediate message catch
        ("order_cancel_boundary", True),  # boundary message event
        ("signal_event_subprocess", True),  # signal-started event sub-process
        ("signal_catchers", True),
        ("gateway_paths", False),  # user tasks and gateways only
        ("four_eyes", False),
    ],
)
def test_a_process_says_whether_its_cases_can_wait_for_messages_or_signals(name, waits):
    """The engine skips the subscription read of a case whose process cannot wait."""
    assert process_waits_for_events(_process(name)) is waits
