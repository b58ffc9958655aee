"""Shared process variables at the adapter level (no DB): admin edits, old states.

The conformance scenarios (tests/conformance/scenarios/vars_*.toml) prove the
Camunda 7 semantics through production; these cover the two ways variables
change outside a task: a process admin's edit, and a case saved before the
store existed (each branch holding its own copy).
"""

import json
from pathlib import Path

from engine.spiff import (
    processes_compile,
    workflow_complete_user_task,
    workflow_set_data,
    workflow_start,
)
from engine.spiff.variables import VARIABLES

BPMN = Path(__file__).resolve().parents[1] / "conformance" / "bpmn"


def _process(name):
    return processes_compile((BPMN / name).read_bytes(), filename=name)[0]


def _state(outcome):
    return json.loads(json.dumps(outcome.state))


def _complete(process, outcome, bpmn_id, data=None):
    task = next(t for t in outcome.ready_user_tasks if t.bpmn_id == bpmn_id)
    return workflow_complete_user_task(
        process, _state(outcome), task_id=task.task_id, data=data or {}
    )


def test_an_admin_edit_reaches_a_gateway_in_a_running_branch():
    process = _process("vars_branch_gateway.bpmn")
    outcome = workflow_start(process, data={"approved_a": False})
    outcome = workflow_set_data(
        process, _state(outcome), values={"approved_a": True}, remove=[]
    )
    assert outcome.data == {"approved_a": True}
    outcome = _complete(process, outcome, "Task_B")
    assert sorted(t.bpmn_id for t in outcome.ready_user_tasks) == [
        "Task_A",
        "Task_Yes",
    ]


def test_an_admin_removal_is_not_put_back_by_a_branch():
    process = _process("vars_join_keeps_write.bpmn")
    outcome = workflow_start(process, data={"decision": "pending", "tmp": 1})
    outcome = workflow_set_data(process, _state(outcome), values={}, remove=["tmp"])
    outcome = _complete(process, outcome, "Task_A")
    outcome = _complete(process, outcome, "Task_B")
    assert outcome.completed
    assert outcome.data == {"decision": "pending", "seen_after_join": "pending"}


def _saved_before_the_store(state):
    """The state as Laneway saved it before: no store, Task_B's own old copy."""
    for task in state["tasks"].values():
        task["internal_data"].pop(VARIABLES, None)
        if task["task_spec"] == "Task_B" and task["delta"]:
            task["delta"]["updates"]["decision"] = "pending"
    return state


def test_a_case_saved_before_the_store_keeps_what_a_branch_wrote():
    process = _process("vars_join_keeps_write.bpmn")
    outcome = workflow_start(process, data={"decision": "pending"})
    outcome = _complete(process, outcome, "Task_A", {"decision": "approved"})
    state = _saved_before_the_store(_state(outcome))
    task_b = outcome.ready_user_tasks[0]
    outcome = workflow_complete_user_task(
        process, state, task_id=task_b.task_id, data={}
    )
    assert outcome.completed
    assert outcome.data["decision"] == "approved"
