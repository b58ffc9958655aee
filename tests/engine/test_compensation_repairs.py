"""Compensation under a process admin's repairs (state reloaded between steps).

A case that can still compensate a completed task moves to another version:
its subscription follows the task's counterpart to the target version's
handler; a target whose counterpart has no handler refuses the case, naming
the task. A handler the admin cancels no longer holds its throw event.
"""

import json

import pytest

from engine.spiff import (
    Instruction,
    MigrationRefused,
    processes_compile,
    workflow_complete_user_task,
    workflow_migrate,
    workflow_modify,
    workflow_start,
)

NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
)


def _version(handler: str | None) -> object:
    compensation = (
        '<bpmn:boundaryEvent id="comp_a" attachedToRef="a">'
        "<bpmn:compensateEventDefinition/></bpmn:boundaryEvent>"
        f'<bpmn:scriptTask id="{handler}" isForCompensation="true" '
        'scriptFormat="python">'
        f'<bpmn:script>undone = undone + ["{handler}"]</bpmn:script>'
        "</bpmn:scriptTask>"
        f'<bpmn:association id="assoc" sourceRef="comp_a" targetRef="{handler}"/>'
        if handler
        else ""
    )
    xml = (
        f'<bpmn:definitions {NS} id="d" targetNamespace="t">'
        '<bpmn:process id="mig_comp" isExecutable="true">'
        '<bpmn:startEvent id="start"/>'
        '<bpmn:userTask id="a" camunda:candidateGroups="g"/>'
        '<bpmn:userTask id="b" camunda:candidateGroups="g"/>'
        '<bpmn:intermediateThrowEvent id="undo"><bpmn:compensateEventDefinition/>'
        "</bpmn:intermediateThrowEvent>"
        '<bpmn:endEvent id="end"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="a"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="a" targetRef="b"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="b" targetRef="undo"/>'
        '<bpmn:sequenceFlow id="f4" sourceRef="undo" targetRef="end"/>'
        f"{compensation}</bpmn:process></bpmn:definitions>"
    )
    return processes_compile(xml.encode())[0]


def _complete(process, outcome, bpmn_id: str):
    [task] = [t for t in outcome.ready_user_tasks if t.bpmn_id == bpmn_id]
    state = json.loads(json.dumps(outcome.state))
    return workflow_complete_user_task(process, state, task_id=task.task_id, data={})


def _at_b():
    v1 = _version("undo_v1")
    outcome = _complete(v1, workflow_start(v1, data={"undone": []}), "a")
    return v1, json.loads(json.dumps(outcome.state))


def test_the_subscription_moves_to_the_target_versions_handler():
    v1, state = _at_b()
    v2 = _version("undo_v2")

    moved = workflow_migrate(v1, v2, state, {})
    done = _complete(v2, moved, "b")

    assert done.completed
    assert done.data["undone"] == ["undo_v2"]


def test_a_target_without_a_handler_for_the_completed_task_refuses_the_case():
    v1, state = _at_b()

    with pytest.raises(MigrationRefused) as refused:
        workflow_migrate(v1, _version(None), state, {})

    [problem] = refused.value.problems
    assert problem.element_id == "a"
    assert "compensation handler" in problem.message


def test_a_handler_an_admin_cancels_no_longer_holds_the_throw_event():
    path = "tests/conformance/bpmn/compensation_user_handlers.bpmn"
    with open(path, "rb") as file:
        [process] = processes_compile(file.read())
    outcome = _complete(process, workflow_start(process, data={}), "CU_Order")
    outcome = _complete(process, outcome, "CU_Pay")
    outcome = _complete(process, outcome, "CU_UndoOrder")
    assert [t.bpmn_id for t in outcome.ready_user_tasks] == ["CU_Refund"]
    state = json.loads(json.dumps(outcome.state))

    modified = workflow_modify(
        process, state, instructions=[Instruction("cancel", "CU_Refund")]
    )

    assert [t.bpmn_id for t in modified.outcome.ready_user_tasks] == ["CU_Close"]
