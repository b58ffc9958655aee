"""Parallel and inclusive joins that count each arriving token once.

SpiffWorkflow 3.2 decides whether a join may fire by scanning the whole task
tree for instances of the join whose parent completed. That has two faults:

* an arrival consumed by an earlier firing still counts, so a join inside a
  loop fires early in a later round (complete the last branch of round one
  first in round two: plain SpiffWorkflow fires with one branch done);
* the decision needs every earlier branch's instance, which the history prune
  drops, so a join of three or more branches never fires in a pruned case.

Here an *arrival* is an instance of the join whose parent task completed (the
token on that incoming flow) and that has not fired itself (a COMPLETED
instance is a firing, which also covers states saved before this rule). A
firing marks every arrival as consumed; only unconsumed arrivals count and
only they must survive the prune (`prune._join_arrivals`). A firing merges no
branch's data: the variables are shared (`variables.py`), so the join reads
the case's current values, never a branch's stale copy.
A firing consumes one token per incoming flow (BPMN 2.0 §13.4.1): a flow
that delivered twice before the join fired (an uncontrolled merge upstream)
keeps its second token for the next firing (SpiffWorkflow and Laneway before
this consumed them all, so the join fired once for two rounds of tokens).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin
from SpiffWorkflow.bpmn.specs.defaults import InclusiveGateway, ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

CONSUMED = "laneway_join_consumed"
_TOKEN = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


def is_arrival(task: Any) -> bool:
    """Return whether a join instance holds an unconsumed token."""
    parent = task.parent
    return (
        parent is not None
        and parent.state == TaskState.COMPLETED
        and task.state != TaskState.COMPLETED
        and not task.internal_data.get(CONSUMED)
    )


def arrivals(join_task: Any) -> list[Any]:
    """Return the unconsumed arrivals at this join, oldest first."""
    spec = join_task.task_spec
    found = [
        t
        for t in join_task.workflow.tasks.values()
        if t.task_spec is spec and is_arrival(t)
    ]
    return sorted(found, key=lambda t: t.parent.last_state_change)


def _consume(join_task: Any) -> None:
    """Consume one token per incoming flow that has one (BPMN 2.0 §13.4.1,
    §13.4.3); the firing task takes the shared variables.

    The firing task is its own flow's token; on each other flow the oldest
    arrival is. A flow that delivered more than one token (an uncontrolled
    merge upstream) keeps the rest for the next firing, and the newest of them
    waits again, so the join is asked again at the next step and the case does
    not end while a token stands at the join (BPMN: the token is still there).
    An arrival names its source, not its flow: a source with several flows
    into the join gives one token to each of them.
    """
    room = _flows(join_task.task_spec)
    room[join_task.parent.task_spec] -= 1
    left = []
    for arrival in arrivals(join_task):
        if arrival is join_task:
            continue
        flow = arrival.parent.task_spec
        if room[flow] <= 0:
            left.append(arrival)
            continue
        room[flow] -= 1
        arrival.internal_data[CONSUMED] = True
        if not arrival.has_state(TaskState.FINISHED_MASK):
            # Another instance of this join readied at the same moment (two
            # flows from one source): its token is joined here, it never fires.
            arrival.cancel()
    join_task._inherit_data()
    join_task.internal_data[CONSUMED] = True
    if left and not any(t.state == TaskState.WAITING for t in left):
        left[-1]._set_state(TaskState.WAITING)


def _flows(join: Any) -> Counter[Any]:
    """Return how many incoming flows of `join` leave each source.

    Two flows from one source (a parallel split drawn with two flows to the
    join) are two inputs: Camunda 7 joins as many tokens as the gateway has
    incoming flows, so they fire it once, not twice.
    """
    return Counter(join.inputs)


def _missing(join_task: Any) -> Counter[Any]:
    """Return, per source, how many of its flows into the join hold no token."""
    missing = _flows(join_task.task_spec)
    missing.subtract(a.parent.task_spec for a in arrivals(join_task))
    return +missing  # only the positive counts


class _CountingJoin(UnstructuredJoin):
    def _run_hook(self, my_task: Any) -> bool:
        _consume(my_task)
        return True


class LanewayParallelGateway(_CountingJoin, ParallelGateway):
    """A parallel join that fires once a token has arrived on every input."""

    def _check_threshold_unstructured(self, my_task: Any) -> bool:
        waiting = set(_missing(my_task))
        for task in my_task.workflow.tasks.values():
            # SpiffWorkflow's rule for a join that is also a loop's entry: an
            # input reached only after this join fires is not waited for.
            if task.task_spec is self and task.is_descendant_of(my_task):
                waiting -= _inputs_above(task, waiting)
        return not waiting


def _inputs_above(task: Any, inputs: set[Any]) -> set[Any]:
    node = task.parent
    while node is not None:
        if node.task_spec in inputs:
            return {node.task_spec}
        node = node.parent
    return set()


class LanewayInclusiveGateway(_CountingJoin, InclusiveGateway):
    """An inclusive join by BPMN 2.0's rule, over unconsumed tokens only.

    It fires when some input has a token and no token elsewhere in the
    process can still reach an input without one, unless that token can also
    reach an input with one (BPMN 2.0 §13.4.3): a second token on its way to
    a filled input does not hold the join back, it fires it again when it
    arrives (Camunda 7's activatesGateway waits for any token that can reach
    the join and joins both once; BPMN wins, pinned by the scenario
    inclusive_join_second_token_on_filled_flow_does_not_hold_it). Nor is the
    join asked only when a token arrives, as in Camunda 7: after every step
    (inclusive_join_fires_when_missing_branch_goes_elsewhere). SpiffWorkflow's own check
    stops its tree walk at the first instance of the join, so in a loop it
    sees last round's tokens and not this round's running branches.
    A boundary event that waits (has not fired) holds no token: the token is
    in its activity, which leaves by its own flows (Camunda 7's isReachable
    follows outgoing sequence flows only), so a join never waits for a path
    that starts at a boundary event until that event fires.
    """

    def _check_threshold_unstructured(self, my_task: Any) -> bool:
        filled = {a.parent.task_spec for a in arrivals(my_task)}
        empty = [spec for spec in self.inputs if spec not in filled]
        if not filled or not empty:
            return bool(filled)
        for task in my_task.workflow.tasks.values():
            if task.task_spec is self or not _holds_token(task):
                continue
            reach = _downstream(task.task_spec, self)
            if reach.isdisjoint(filled) and not reach.isdisjoint(empty):
                return False
        return True

    def _run_hook(self, my_task: Any) -> bool:
        _consume(my_task)
        matches, defaults = self._get_matching_outputs(my_task)
        if not matches and not defaults:
            name = self.bpmn_name or self.bpmn_id
            raise WorkflowTaskException(
                f"No conditions satisfied on gateway '{name}': no outgoing flow "
                "has a true condition and there is no default flow",
                task=my_task,
            )
        my_task._sync_children(matches or defaults, TaskState.FUTURE)
        for child in my_task.children:
            child.task_spec._predict(
                child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK
            )
        return True


def _holds_token(task: Any) -> bool:
    """Whether `task` holds a token that may still move on (not a boundary
    event waiting for its trigger)."""
    if not task.has_state(_TOKEN):
        return False
    return not (
        isinstance(task.task_spec, BoundaryEvent) and task.has_state(TaskState.WAITING)
    )


def _downstream(start: Any, join: Any) -> set[Any]:
    """Return the specs reachable from `start` (itself included) short of `join`."""
    seen, todo = {start}, [start]
    while todo:
        for spec in todo.pop().outputs:
            if spec is not join and spec not in seen:
                seen.add(spec)
                todo.append(spec)
    return seen


class LanewayBoundaryEventJoin(BoundaryEventJoin):
    """The join behind an activity with boundary events, one per entry of it.

    When the activity or an interrupting boundary event ends it, SpiffWorkflow
    cancels every other instance of this join below the split it found, and
    so those of the activity entered again from a boundary event's path (a
    timer looping back to its own task): that entry's join was cancelled in
    advance, its boundary event then fired without interrupting it, and the
    task was open twice. Only the instances of the same entry (the same
    split instance) are its siblings, as each entry is its own scope
    execution in Camunda 7 (BoundaryTimerEventTest.testRepeatingTimerWithCancelActivity:
    one task and one timer after each firing).
    """

    def _find_tasks(self, my_task: Any) -> list[Any]:
        split = my_task.find_ancestor(self.split_task)
        return [
            task
            for task in super()._find_tasks(my_task)
            if task.find_ancestor(self.split_task) is split
        ]


REPLACEMENTS = {
    ParallelGateway: LanewayParallelGateway,
    InclusiveGateway: LanewayInclusiveGateway,
    BoundaryEventJoin: LanewayBoundaryEventJoin,
}
