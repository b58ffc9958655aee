"""Joins and multi-instance at the adapter level: pruned and reloaded == kept in memory.

Differential: seeded random walks drive one case through Laneway's runtime
(pruned, state dumped to JSON and loaded again after every step) and the same
diagram in one in-memory SpiffWorkflow workflow that is never pruned nor
reloaded; the ready user tasks (with each instance's local variables) and the
case data must agree after every step.

Both sides run Laneway's corrected specs (`semantics.adapt_specs`): plain
SpiffWorkflow 3.2 departs from BPMN on exactly these diagrams (a parallel or
inclusive join inside a loop fires early in round two; a sequential
multi-instance over a collection stops with "input item already exists"), and
the conformance scenarios assert the BPMN behaviour. What this compares is the
prune and the reload.
"""

import json
import random
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.spiff import processes_compile, workflow_complete_user_task, workflow_start
from engine.spiff.joins import CONSUMED
from engine.spiff.prune import tree_depth
from engine.spiff.serialization import new_workflow, state_load
from engine.spiff.variables import task_locals, variables_of

DIAGRAMS = Path(__file__).resolve().parents[1] / "conformance" / "bpmn"
STARTS = {
    "parallel_join_2.bpmn": {},
    "parallel_join_3.bpmn": {},
    "parallel_join_4.bpmn": {},
    "parallel_nested.bpmn": {},
    "parallel_join_loop.bpmn": {},
    "parallel_join_in_subprocess.bpmn": {},
    "mi_subprocess_join.bpmn": {"count": 2},
    "inclusive_join_3.bpmn": {},
    "inclusive_join_loop.bpmn": {},
    "mi_parallel_cardinality.bpmn": {"count": 3},
    "mi_sequential_cardinality.bpmn": {"count": 4},
    "mi_parallel_condition.bpmn": {"count": 4, "rejected": False},
    "mi_sequential_condition.bpmn": {"signers": ["a", "b", "c"], "rejected": False},
    "mi_parallel_assignee.bpmn": {"approvers": ["a", "b", "c"]},
    "mi_sequential_collection.bpmn": {"signers": ["a", "b"], "signer": "x"},
    "mi_sequential_script.bpmn": {"items": [1, 2, 3], "total": 0, "seen": {}},
    "mi_parallel_script.bpmn": {"items": [1, 2, 3], "total": 0, "seen": {}},
}
SEEDS = range(3)
MAX_STEPS = 40


def _process(name):
    return processes_compile((DIAGRAMS / name).read_bytes(), filename=name)[0]


def _json(value):
    return json.loads(json.dumps(value, default=str))


def _step_data(rng, step):
    flags = {k: rng.random() < 0.6 for k in "abc"}
    if not any(flags.values()):
        flags["a"] = True
    return {
        "step": step,
        "again": step < MAX_STEPS - 10 and rng.random() < 0.5,
        "rejected": rng.random() < 0.2,
        **flags,
    }


class InMemory:
    """The same diagram in one SpiffWorkflow workflow, never pruned nor reloaded."""

    def __init__(self, process, data):
        self.wf = new_workflow(process)
        self.wf.task_tree.data.update(_json(data))
        for task in self.wf.get_tasks(state=TaskState.READY):
            task.data.update(_json(data))
        self.wf.do_engine_steps()

    def ready(self):
        tasks = self.wf.get_tasks(state=TaskState.READY, manual=True)
        return sorted(tasks, key=lambda t: _key(t.task_spec.bpmn_id, task_locals(t)))

    def view(self):
        ready = [(t.task_spec.bpmn_id, _json(task_locals(t))) for t in self.ready()]
        if self.wf.is_completed():
            return ready, _json(self.wf.data), True
        return ready, _json(variables_of(self.wf)), False

    def complete(self, index, data):
        task = self.ready()[index]
        task.data.update(_json(data))
        task.run()
        self.wf.do_engine_steps()


def _key(bpmn_id, local):
    return bpmn_id, json.dumps(local, sort_keys=True)


def _ready(outcome):
    return sorted(outcome.ready_user_tasks, key=lambda t: _key(t.bpmn_id, t.local_data))


def _view(outcome):
    ready = [(t.bpmn_id, t.local_data) for t in _ready(outcome)]
    return ready, outcome.data, outcome.completed


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("diagram", sorted(STARTS))
def test_pruned_and_reloaded_case_matches_the_unpruned_workflow(diagram, seed):
    rng = random.Random(f"{diagram}:{seed}")
    process = _process(diagram)
    outcome = workflow_start(process, data=STARTS[diagram])
    memory = InMemory(process, STARTS[diagram])
    for step in range(MAX_STEPS):
        assert outcome.failure is None, outcome.failure
        assert _view(outcome) == memory.view(), f"step {step}"
        ready = _ready(outcome)
        if not ready:
            break
        index, data = rng.randrange(len(ready)), _step_data(rng, step)
        state = json.loads(json.dumps(outcome.state))
        outcome = workflow_complete_user_task(
            process, state, task_id=ready[index].task_id, data=data
        )
        memory.complete(index, data)
    assert outcome.completed or step == MAX_STEPS - 1


def _round(driver, process, order, data):
    for bpmn_id, values in [
        ("Task_Prepare", data),
        *[(f"Task_{x}", {}) for x in order],
    ]:
        [task] = [t for t in driver["outcome"].ready_user_tasks if t.bpmn_id == bpmn_id]
        state = json.loads(json.dumps(driver["outcome"].state))
        driver["outcome"] = workflow_complete_user_task(
            process, state, task_id=task.task_id, data=values
        )
        assert driver["outcome"].failure is None
    assert [t.bpmn_id for t in driver["outcome"].ready_user_tasks] == ["Task_Decide"]
    [decide] = driver["outcome"].ready_user_tasks
    driver["outcome"] = workflow_complete_user_task(
        process,
        json.loads(json.dumps(driver["outcome"].state)),
        task_id=decide.task_id,
        data={"again": True},
    )


@pytest.mark.parametrize(
    "diagram", ["parallel_join_loop.bpmn", "inclusive_join_loop.bpmn"]
)
def test_a_join_in_a_loop_keeps_the_state_small_over_400_rounds(diagram):
    # Past SpiffWorkflow's old depth cliff (~333 loops); the joins' consumed
    # arrivals are pruned, so the state does not grow with the rounds.
    process = _process(diagram)
    driver = {"outcome": workflow_start(process, data={})}
    sizes = {}
    orders = ["ABC", "CAB", "BCA", "AC", "B"]
    for number in range(1, 401):
        order = orders[number % len(orders)]
        if diagram.startswith("parallel"):
            order = order if len(order) == 3 else "CBA"
        flags = {k.lower(): k in order for k in "ABC"}
        _round(driver, process, order, {"round": number, **flags})
        sizes[number] = len(json.dumps(driver["outcome"].state))
    outcome = driver["outcome"]
    assert [t.bpmn_id for t in outcome.ready_user_tasks] == ["Task_Prepare"]
    assert outcome.data["round"] == 400
    assert sizes[400] <= 1.5 * sizes[5]
    wf = state_load(outcome.state, process)
    assert tree_depth(wf) < 30


def _drop_consumed_marks(state):
    for task in state["tasks"].values():
        task["internal_data"].pop(CONSUMED, None)
    return state


def test_a_state_saved_before_joins_marked_consumed_tokens_still_joins_correctly():
    process = _process("parallel_join_loop.bpmn")
    driver = {"outcome": workflow_start(process, data={})}
    _round(driver, process, "ABC", {})
    outcome = driver["outcome"]
    for bpmn_id, still_open in [
        ("Task_Prepare", ["Task_A", "Task_B", "Task_C"]),
        ("Task_C", ["Task_A", "Task_B"]),  # the last branch of round one, first now
        ("Task_A", ["Task_B"]),
        ("Task_B", ["Task_Decide"]),
    ]:
        [task] = [t for t in outcome.ready_user_tasks if t.bpmn_id == bpmn_id]
        state = _drop_consumed_marks(json.loads(json.dumps(outcome.state)))
        outcome = workflow_complete_user_task(
            process, state, task_id=task.task_id, data={}
        )
        assert sorted(t.bpmn_id for t in outcome.ready_user_tasks) == still_open
