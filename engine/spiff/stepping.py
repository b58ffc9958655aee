"""Run the engine with bounds: iterator depth, tasks per advance, tree depth.

* SpiffWorkflow's task iterators stop at depth 1000 by default
  (`util/task.py`, `bpmn/util/task.py`), which makes `is_completed()` true and
  `get_tasks(READY)` empty while work is pending. The default is raised once, at
  import, for the whole process.
* `run_engine` replaces `do_engine_steps`: it prunes between engine rounds, stops
  after `EngineLimits.max_tasks_per_advance` tasks (a loop with no person in it
  would otherwise hang the request) and when the tree gets deeper than
  `EngineLimits.max_tree_depth` (before Python's recursion limit in
  `Task.is_descendant_of`). Both become a failure of the case, never a silent
  completion or a RecursionError.
* `Task._set_state` builds the extras of its log record (a dict, the parent
  looked up, two state names) on every state change, before `logger.info`
  drops it: about a tenth of a step's CPU with SpiffWorkflow's loggers at
  WARNING (config/settings.py). `quiet_state_changes` builds them only when
  the record is emitted; what is logged when it is does not change.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import SpiffWorkflow.bpmn.util.task as _bpmn_task_util
import SpiffWorkflow.task as _spiff_task
import SpiffWorkflow.util.task as _core_task_util
from SpiffWorkflow.util.task import TaskState

from .events import conditions_refresh, engine_steps
from .limits import limits_get
from .prune import prune_workflow, tree_depth
from .types import EngineLimit

ITERATOR_MAX_DEPTH = 10**9
_DEPTH_PROBE_EVERY = 64


def _raise_default_max_depth(function: Any, value: int) -> None:
    code = function.__code__
    names = code.co_varnames[: code.co_argcount]
    defaults = list(function.__defaults__)
    index = names.index("max_depth") - (len(names) - len(defaults))
    defaults[index] = value
    function.__defaults__ = tuple(defaults)


def raise_iterator_depth(value: int = ITERATOR_MAX_DEPTH) -> None:
    """Lift the task iterators' `max_depth=1000` default (process-wide)."""
    _raise_default_max_depth(_core_task_util.TaskIterator.__init__, value)
    _raise_default_max_depth(_bpmn_task_util.BpmnTaskIterator.__init__, value)


raise_iterator_depth()


def _set_state(self: Any, value: int) -> None:
    """`Task._set_state` of SpiffWorkflow 3.2.0, its log extras built only
    when the record is emitted."""
    logger = _spiff_task.logger
    if value != self.state:
        elapsed = time.time() - self.last_state_change
        self.last_state_change = time.time()
        self._state = value
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                f"State changed to {TaskState.get_name(value)}",
                extra=self.collect_log_extras({"elapsed": elapsed}),
            )
    elif logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            f"State set to {TaskState.get_name(value)}",
            extra=self.collect_log_extras(),
        )


def quiet_state_changes() -> None:
    """Replace `Task._set_state` by `_set_state` (process-wide, idempotent)."""
    _spiff_task.Task._set_state = _set_state


quiet_state_changes()


class EngineLimitExceeded(Exception):  # noqa: N818
    """The engine was stopped by one of Laneway's bounds (error_type names which)."""

    def __init__(self, error_type: EngineLimit, message: str) -> None:
        super().__init__(message)
        self.error_type = str(error_type)


def too_deep(depth: int) -> EngineLimitExceeded:
    """Return the TreeTooDeep failure for a tree `depth` levels deep."""
    limit = limits_get().max_tree_depth
    return EngineLimitExceeded(
        EngineLimit.TREE_TOO_DEEP,
        f"The case's task tree is {depth} levels deep (limit {limit}); "
        "the engine stopped instead of risking a wrong completion.",
    )


def check_depth(workflow: Any) -> None:
    """Raise TreeTooDeep when the tree is deeper than the threshold."""
    limit = limits_get().max_tree_depth
    depth = tree_depth(workflow, beyond=limit)
    if depth > limit:
        raise too_deep(depth)


def run_engine(
    workflow: Any, on_complete: Callable[[Any], None], *, prune: bool = True
) -> None:
    """Run every READY engine task to quiescence, within the bounds.

    Raises:
        EngineLimitExceeded: too many tasks in one advance, or the tree too deep.
        SpiffWorkflowException: a task failed (it is in ERROR).
    """
    count = 0
    limits = limits_get()

    def did_complete(task: Any) -> None:
        nonlocal count
        on_complete(task)
        conditions_refresh(workflow)  # the variable events of this task
        count += 1
        if count > limits.max_tasks_per_advance:
            raise EngineLimitExceeded(
                EngineLimit.STEP_LIMIT,
                f"More than {limits.max_tasks_per_advance} tasks ran in one step: "
                "a loop without a person in it? The engine stopped.",
            )
        if count % _DEPTH_PROBE_EVERY == 0 and task.depth > limits.max_tree_depth:
            raise too_deep(task.depth)

    conditions_refresh(workflow)  # the command's own variable events
    while True:
        while engine_steps(workflow, did_complete):
            if prune:
                prune_workflow(workflow)
            check_depth(workflow)
        if not conditions_refresh(workflow):
            break
    workflow.refresh_timers()


def halt(workflow: Any) -> Any:
    """Put the next READY task into ERROR so the case waits for a retry; return it."""
    ready = workflow.get_tasks(state=TaskState.READY)
    engine = [t for t in ready if not t.task_spec.manual]
    task = (engine or ready or [None])[0]
    if task is not None:
        task._set_state(TaskState.ERROR)
    return task
