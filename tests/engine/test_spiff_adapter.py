"""Adapter tests (no database): state without spec, restricted engine on every load."""

import json

import pytest
from SpiffWorkflow.bpmn.script_engine import python_engine

from engine.spiff import (
    BpmnParseError,
    processes_compile,
    workflow_complete_user_task,
    workflow_start,
)
from engine.spiff.scripting import LanewayScriptEngine
from engine.spiff.serialization import state_load
from tests.conftest import EXAMPLES

XML = (EXAMPLES / "purchase_request.bpmn").read_bytes()


@pytest.fixture(scope="module")
def process():
    return processes_compile(XML, filename="purchase_request.bpmn")[0]


def _round_trip(state):
    return json.loads(json.dumps(state))


def test_state_is_stored_without_the_spec(process):
    outcome = workflow_start(process, data={"amount": 1, "justification": "x"})
    assert "spec" not in outcome.state and "subprocess_specs" not in outcome.state
    assert len(json.dumps(outcome.state)) < 6000


def test_default_script_engine_is_never_built(process, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("SpiffWorkflow's default TaskDataEnvironment was created")

    monkeypatch.setattr(python_engine.TaskDataEnvironment, "__init__", refuse)
    outcome = workflow_start(process, data={"amount": 1, "justification": "x"})
    for data in ({"approved": True}, {"finance_approved": True}):
        task = outcome.ready_user_tasks[0]
        outcome = workflow_complete_user_task(
            process, _round_trip(outcome.state), task_id=task.task_id, data=data
        )
    assert outcome.completed is True
    wf = state_load(_round_trip(outcome.state), process)
    assert isinstance(wf.script_engine, LanewayScriptEngine)


@pytest.mark.parametrize(
    "condition",
    [
        "__import__('os').system('id')",
        "().__class__.__base__.__subclasses__()",
        "open('/tmp/pwned', 'w').write('x') == 1",
    ],
)
def test_hostile_conditions_are_rejected_at_upload_with_their_line(condition):
    xml = XML.replace(
        b"approved == True</bpmn:conditionExpression>",
        condition.encode() + b"</bpmn:conditionExpression>",
        1,
    )
    with pytest.raises(BpmnParseError) as err:
        processes_compile(xml, filename="hostile.bpmn")
    problem = err.value.problems[0]
    assert (
        problem.element_id == "f_approved" and "invalid expression" in problem.message
    )
    line = next(
        i for i, text in enumerate(xml.decode().splitlines(), 1) if condition in text
    )
    assert problem.line == line


def test_a_multi_instance_without_its_collection_fails_the_case_not_the_server():
    from tests.conftest import ROOT

    corpus = (
        ROOT.parent
        / "shared"
        / "corpus"
        / "operaton"
        / "multi-instance--document-review.bpmn"
    )
    if not corpus.exists():
        pytest.fail(f"the shared corpus is missing: {corpus}")
    process = processes_compile(
        corpus.read_bytes(),
        filename=corpus.name,
        known_operations=frozenset({"x"}),
        validate=False,
    )[0]
    outcome = workflow_start(process, data={})
    for _ in range(3):
        if outcome.failure or not outcome.ready_user_tasks:
            break
        outcome = workflow_complete_user_task(
            process, outcome.state, task_id=outcome.ready_user_tasks[0].task_id, data={}
        )
    assert outcome.failure is not None and outcome.failure.error_type
