"""Keep a case's task tree bounded however often it loops.

SpiffWorkflow 3.2.0 never forgets a finished task: every rework loop appends
~3 tasks (~1.2 kB of state, ~80 µs per later step), and past a depth of 1000 the
task iterators stop looking, so a case silently "completes" with work pending.
Laneway keeps the history in its own task and audit tables, so the stored tree
only needs what the engine still reads.

`prune_workflow` is a *contraction*: it computes a keep set per (sub)workflow,
re-attaches every kept task to its nearest kept ancestor (pre-order, so READY
iteration order is unchanged) and deletes the rest. Task data needs no care:
the serializer delta-encodes each task against whatever its parent is.

The keep set, and the SpiffWorkflow code that needs each part
(research/pruning/REPORT.md §2.2, verified against unpruned runs):

* I1 every unfinished task, and ERROR tasks (retry resets them);
* I2 each workflow's `last_task` (a call activity copies its data out);
* I3 all children of an unfinished multi-instance / standard loop task;
* I4 for an unfinished boundary-event join, its split and all the split's
  children (`BoundaryEventJoin` classifies them);
* I5 the root and its direct children (`trigger_wf`, ad-hoc subprocesses);
* I6 `history` (>= 1) true ancestors of every I1/I2 task (a waiting parallel
  join re-reads its parent's state; a reset copies the parent's data);
* I7 all children of a kept boundary-event split (a reset re-arms them all);
* I8 for an unfinished (predicted, waiting, ready) parallel or inclusive join,
  its unconsumed arrivals and their parents: the instances whose token has
  not been merged yet, which decide when it fires and whose data it merges
  (`joins.py`). Consumed arrivals are history and go.

Finished subprocesses whose owner task was removed are dropped, as are event
registrations of removed tasks. Pruned task ids no longer resolve.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import EventSplit
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.unstructured_join import UnstructuredJoin
from SpiffWorkflow.util.task import TaskState

from .joins import is_arrival

DEFAULT_HISTORY = 2
_SEED = TaskState.NOT_FINISHED_MASK | TaskState.ERROR


def _ancestor_ids(tasks: dict, task: Any) -> Iterator[UUID]:
    parent_id = task._parent
    while parent_id is not None and parent_id in tasks:
        yield parent_id
        parent_id = tasks[parent_id]._parent


def _split_and_branches(tasks: dict, join: Any, split_name: str) -> list[UUID]:
    for ancestor_id in _ancestor_ids(tasks, join):
        ancestor = tasks[ancestor_id]
        if ancestor.task_spec.name == split_name:
            return [ancestor_id, *ancestor._children]
    return []


def _join_arrivals(tasks: dict, join: Any) -> set[UUID]:
    kept: set[UUID] = set()
    for other in tasks.values():
        if other.task_spec is join.task_spec and is_arrival(other):
            kept.update((other.id, other._parent))
    return kept


def _structural(tasks: dict, task: Any, keep: set[UUID]) -> None:
    spec = task.task_spec
    if isinstance(spec, LoopTask):  # I3
        keep.update(task._children)
    split_name = getattr(spec, "split_task", None)
    if split_name:  # I4
        keep.update(_split_and_branches(tasks, task, split_name))
    if isinstance(spec, UnstructuredJoin):  # I8
        keep.update(_join_arrivals(tasks, task))


def keep_set(workflow: Any, history: int = DEFAULT_HISTORY) -> set[UUID]:
    """Return the ids of the tasks of one (sub)workflow that must survive."""
    tasks = workflow.tasks
    root = workflow.task_tree
    keep = {root.id, *root._children}  # I5
    seeds = [t for t in tasks.values() if t._state & _SEED]  # I1
    for task in seeds:
        _structural(tasks, task, keep)
    last = workflow.last_task
    if last is not None and last.id in tasks:  # I2
        seeds.append(last)
    for task in seeds:  # I6
        keep.add(task.id)
        parent_id = task._parent
        for _ in range(history):
            parent = tasks.get(parent_id) if parent_id is not None else None
            if parent is None:
                break
            keep.add(parent_id)
            parent_id = parent._parent
    for task_id in list(keep):  # I7
        task = tasks.get(task_id)
        if task is not None and isinstance(task.task_spec, EventSplit):
            keep.update(task._children)
    return keep


def contract(workflow: Any, keep: set[UUID]) -> list[UUID]:
    """Delete every task not in `keep`, re-attaching kept tasks to their nearest
    kept ancestor in pre-order; return the removed ids."""
    tasks = workflow.tasks
    if tasks.keys() <= keep:
        return []  # nothing to remove: the tree stays as it is
    new_children: dict[UUID, list[UUID]] = {}
    removed: list[UUID] = []
    stack: list[tuple[UUID, UUID | None]] = [(workflow.task_tree.id, None)]
    while stack:
        task_id, anchor = stack.pop()
        task = tasks.get(task_id)
        if task is None:
            continue
        if task_id in keep:
            if anchor is not None:
                new_children[anchor].append(task_id)
                task._parent = anchor
            new_children[task_id] = []
            anchor = task_id
        else:
            removed.append(task_id)
        stack.extend((child_id, anchor) for child_id in reversed(task._children))
    if removed:
        for task_id, children in new_children.items():
            tasks[task_id]._children = children
        for task_id in removed:
            del tasks[task_id]
    return removed


def prune_workflow(workflow: Any, history: int = DEFAULT_HISTORY) -> list[UUID]:
    """Shrink a BpmnWorkflow and its subprocesses to a bounded core.

    Safe between any two engine calls. Returns the removed task ids.
    """
    history = max(1, history)  # I6: a join whose input parent is gone never fires
    removed = contract(workflow, keep_set(workflow, history))
    alive = set(workflow.tasks)
    pending = dict(workflow.subprocesses)
    progress = True
    while progress and pending:  # owners before the subprocesses they own
        progress = False
        for owner_id in [o for o in pending if o in alive]:
            subprocess = pending.pop(owner_id)
            removed += contract(subprocess, keep_set(subprocess, history))
            alive.update(subprocess.tasks)
            progress = True
    for owner_id, subprocess in pending.items():  # owner pruned: drop it whole
        removed.extend(subprocess.tasks)
        del workflow.subprocesses[owner_id]
    registrations = workflow.event_manager.tasks
    for task_id in [t for t in registrations if t not in alive]:
        del registrations[task_id]
    return removed


def tree_depth(workflow: Any, beyond: int = 0) -> int:
    """Return the depth of the deepest task in the workflow or any subprocess.

    Only (sub)workflows that can be deeper than `beyond` are walked (n tasks
    are at most n - 1 deep; the others count as 0): the answer to "deeper
    than `beyond`?", and the depth when it is, without a walk per step.
    """
    deepest = 0
    for w in (workflow, *workflow.subprocesses.values()):
        tasks = w.tasks
        if len(tasks) <= beyond + 1:
            continue
        level = [w.task_tree.id]
        depth = 0
        while level:
            level = [c for t in level if t in tasks for c in tasks[t]._children]
            depth += 1 if level else 0
        deepest = max(deepest, depth)
    return deepest
