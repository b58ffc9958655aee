"""Long histories at the adapter level (no DB): pruning, depth bounds, retry.

Every step round-trips the state through JSON text, as the services store it.
"""

import json
from pathlib import Path

import pytest
import SpiffWorkflow.bpmn.util.task as bpmn_task_util
import SpiffWorkflow.util.task as core_task_util
from SpiffWorkflow.util.task import TaskState

from engine.spiff import (
    TaskNotReady,
    processes_compile,
    runtime,
    stepping,
    workflow_complete_user_task,
    workflow_retry,
    workflow_start,
)
from engine.spiff.prune import tree_depth
from engine.spiff.serialization import new_workflow, state_load

ROOT = Path(__file__).resolve().parents[2]
PURCHASE = ROOT / "examples" / "purchase_request.bpmn"
BPMN = ROOT / "tests" / "bpmn"
LOOPS = 1000


def _process(path, key=None):
    processes = processes_compile(path.read_bytes(), filename=path.name)
    return next(p for p in processes if key in (None, p.key))


def _roundtrip(outcome):
    return json.loads(json.dumps(outcome.state))


def _size(outcome):
    return len(json.dumps(outcome.state))


class Driver:
    """Complete READY tasks by bpmn id, persisting the state as JSON after each step."""

    def __init__(self, process, data):
        self.process = process
        self.outcome = workflow_start(process, data=data)
        self.route = [s.bpmn_id for s in self.outcome.steps]
        assert self.outcome.failure is None

    def ready(self):
        return sorted(t.bpmn_id for t in self.outcome.ready_user_tasks)

    def complete(self, bpmn_id, data):
        task = next(t for t in self.outcome.ready_user_tasks if t.bpmn_id == bpmn_id)
        self.outcome = workflow_complete_user_task(
            self.process, _roundtrip(self.outcome), task_id=task.task_id, data=data
        )
        assert self.outcome.failure is None, self.outcome.failure
        self.route += [s.bpmn_id for s in self.outcome.steps]


def _purchase(loops):
    driver = Driver(_process(PURCHASE), {"amount": 900.0, "justification": "laptop"})
    sizes = {}
    for loop in range(1, loops + 1):
        driver.complete("manager_review", {"approved": False, "comment": f"no {loop}"})
        driver.complete(
            "revise_request", {"amount": 900.0 - loop / 10, "justification": "x"}
        )
        sizes[loop] = _size(driver.outcome)
    assert driver.ready() == ["manager_review"]
    driver.complete("manager_review", {"approved": True, "comment": "fine"})
    driver.complete("finance_review", {"finance_approved": True})
    return driver, sizes


def _parallel(loops):
    driver = Driver(
        _process(BPMN / "parallel_branch_loop.bpmn"), {"drafts": 0, "last_titles": []}
    )
    sizes = {}
    for loop in range(1, loops + 1):
        # Legal finishes halfway: its token then waits at the join for hundreds of
        # pruned loops. (The branch reaching the join last wins conflicting keys.)
        assert driver.ready() == (
            ["draft", "legal"] if loop <= loops // 2 else ["draft"]
        )
        if loop == loops // 2:
            driver.complete("legal", {"legal_ok": True})
        driver.complete("draft", {"title": f"v{loop}"})
        driver.complete("check", {"ok": False})
        sizes[loop] = _size(driver.outcome)
    driver.complete("draft", {"title": "final"})
    driver.complete("check", {"ok": True})
    assert driver.ready() == ["publish"]
    driver.complete("publish", {"published": True})
    return driver, sizes


def _call_activity(loops):
    driver = Driver(
        _process(BPMN / "call_activity_loop.bpmn", "call_activity_loop"), {"rounds": 0}
    )
    sizes = {}
    for loop in range(1, loops + 1):
        driver.complete("r_review", {"approved": False, "note": f"round {loop}"})
        sizes[loop] = _size(driver.outcome)
    driver.complete("r_review", {"approved": True, "note": "done"})
    return driver, sizes


def test_purchase_1000_rework_loops_completes_with_constant_state():
    driver, sizes = _purchase(LOOPS)
    assert driver.outcome.completed is True
    assert driver.outcome.data["approved"] is True
    assert driver.outcome.data["finance_approved"] is True
    assert driver.outcome.data["amount"] == pytest.approx(900.0 - LOOPS / 10)
    assert driver.route.count("manager_review") == LOOPS + 1
    assert driver.route[-1] == "end_approved"
    assert sizes[LOOPS] <= 2 * sizes[1]


def test_loop_inside_one_parallel_branch_1000_times_completes_with_constant_state():
    driver, sizes = _parallel(LOOPS)
    data = driver.outcome.data
    assert driver.outcome.completed is True
    assert data["drafts"] == LOOPS + 1
    assert data["last_titles"] == [f"v{LOOPS - 1}", f"v{LOOPS}", "final"]
    assert data["legal_ok"] is True and data["published"] is True
    assert driver.route.count("count") == LOOPS + 1
    assert sizes[LOOPS] <= 2 * sizes[1]


def test_loop_through_a_call_activity_1000_times_completes_with_constant_state():
    driver, sizes = _call_activity(LOOPS)
    assert driver.outcome.completed is True
    assert driver.outcome.data["rounds"] == LOOPS + 1
    assert driver.outcome.data["note"] == "done"
    assert driver.route.count("r_review") == LOOPS + 1
    assert sizes[LOOPS] <= 2 * sizes[1]


@pytest.mark.parametrize("scenario", [_purchase, _parallel, _call_activity])
def test_pruned_run_takes_the_same_route_to_the_same_data_as_unpruned(
    scenario, monkeypatch
):
    pruned, _ = scenario(25)
    monkeypatch.setattr(runtime, "PRUNE", False)
    unpruned, unpruned_sizes = scenario(25)
    assert pruned.route == unpruned.route
    assert pruned.outcome.data == unpruned.outcome.data
    assert pruned.outcome.completed is unpruned.outcome.completed is True
    assert unpruned_sizes[25] > 5 * unpruned_sizes[1]  # what the prune saves


def test_task_iterators_look_deeper_than_spiffs_default_1000():
    assert (
        core_task_util.TaskIterator.__init__.__defaults__[1]
        == stepping.ITERATOR_MAX_DEPTH
    )
    assert (
        bpmn_task_util.BpmnTaskIterator.__init__.__defaults__[1]
        == stepping.ITERATOR_MAX_DEPTH
    )


def test_unpruned_tree_past_the_old_depth_cliff_still_shows_its_ready_task():
    # Unpatched SpiffWorkflow calls this case complete after ~333 loops.
    process = _process(PURCHASE)
    wf = new_workflow(process)
    wf.get_tasks(state=TaskState.READY)[0].data.update(amount=1.0, justification="x")
    wf.do_engine_steps()
    for _ in range(340):
        for bpmn_id, data in (
            ("manager_review", {"approved": False}),
            ("revise_request", {}),
        ):
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            assert task.task_spec.bpmn_id == bpmn_id
            task.data.update(data)
            task.run()
            wf.do_engine_steps()
    assert tree_depth(wf) > 1000
    assert wf.is_completed() is False
    assert wf.get_next_task(state=TaskState.READY, manual=True) is not None


def test_tree_deeper_than_the_threshold_fails_the_case_instead_of_completing(
    monkeypatch, settings
):
    monkeypatch.setattr(runtime, "PRUNE", False)
    settings.ENGINE_MAX_TREE_DEPTH = 40
    driver = Driver(_process(PURCHASE), {"amount": 1.0, "justification": "x"})
    failure = None
    for _ in range(40):
        task = driver.outcome.ready_user_tasks[0]
        outcome = workflow_complete_user_task(
            driver.process,
            _roundtrip(driver.outcome),
            task_id=task.task_id,
            data={"approved": False, "amount": 1.0, "justification": "x"},
        )
        driver.outcome = outcome
        if outcome.failure is not None:
            failure = outcome.failure
            break
    assert failure is not None and failure.error_type == "TreeTooDeep"
    assert "levels deep" in failure.message
    assert driver.outcome.completed is False
    assert driver.outcome.ready_user_tasks == ()  # halted: the task waits in ERROR
    assert failure.task_id


def test_loop_without_a_person_stops_at_the_step_limit_as_a_failure(settings):
    settings.ENGINE_MAX_TASKS_PER_ADVANCE = 300
    process = _process(BPMN / "runaway_loop.bpmn")
    outcome = workflow_start(process, data={"spin": True, "divisor": 1})
    assert outcome.failure is not None
    assert outcome.failure.error_type == "EngineStepLimit"
    assert outcome.completed is False
    assert len(json.dumps(outcome.state)) < 20_000  # pruned between engine rounds

    retried = workflow_retry(
        process, _roundtrip(outcome), task_id=outcome.failure.task_id
    )
    assert (
        retried.failure is not None and retried.failure.error_type == "EngineStepLimit"
    )


def test_retry_reruns_the_failed_task_and_refuses_tasks_not_in_error():
    process = _process(BPMN / "runaway_loop.bpmn")
    outcome = workflow_start(process, data={"spin": False, "divisor": 0})
    assert (
        outcome.failure is not None
        and outcome.failure.error_type == "ZeroDivisionError"
    )
    state = _roundtrip(outcome)
    wf = state_load(state, process)
    assert [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.ERROR)] == [
        "divide"
    ]

    again = workflow_retry(process, state, task_id=outcome.failure.task_id)
    assert again.failure is not None and again.failure.error_type == "ZeroDivisionError"
    with pytest.raises(TaskNotReady):
        workflow_retry(process, state, task_id=str(wf.task_tree.id))
