"""Running a listener's kept lines on a task outside the flow (cancel_listeners.py,
process_end.py), and the keys they are kept under.

The lines the upload kept for an element (listeners.END_SCRIPT, DELETE_SCRIPT,
PROCESS_END_SCRIPT) are one mapping per compiled process
(`CompiledProcess.end_listeners`): an element's end listeners under its id, a
user task's delete task listeners and a process's end listeners under keys no
XML id can be (an id has no colon).
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.util.task import TaskState

from .reached_failures import failure_text
from .variables import local_names, publish, refresh, variables_of

# Tasks a publish does not bring up to date (variables._live): a boundary
# event's join cancels the activity while it is being updated, then publishes.
_PENDING = TaskState.FUTURE | TaskState.PREDICTED_MASK
# Set on the case's workflow object while custom listeners are skipped.
SKIP = "laneway_skip_custom_listeners"


def delete_key(element_id: str) -> str:
    """The key of a user task's delete task listeners' lines."""
    return f":delete:{element_id}"


def process_end_key(process_id: str) -> str:
    """The key of a process's end execution listeners' lines."""
    return f":process-end:{process_id}"


def skipped(workflow: Any) -> bool:
    """Whether the case's custom listeners are skipped now (an operator's choice)."""
    return bool(getattr(workflow.top_workflow, SKIP, False))


def run_lines(task: Any, body: str, what: str) -> None:
    """Run a listener's lines on `task` and put what they set into its process
    instance's variables (setVariable), also into the tasks not yet reached.

    Raises:
        WorkflowTaskException: the lines failed (`what` says which, and how).
    """
    store = variables_of(task.workflow)
    if store is not None:  # what the listeners before it set
        refresh(task, store)
    try:
        task.workflow.script_engine.execute(task, body)
    except Exception as exc:
        raise WorkflowTaskException(f"{what}: {failure_text(exc)}", task=task) from exc
    before = dict(variables_of(task.workflow) or {})
    publish(task)
    store = variables_of(task.workflow) or {}
    changed = [n for n, v in store.items() if n not in before or before[n] != v]
    for pending in task.workflow.get_tasks(state=_PENDING) if changed else []:
        local = local_names(pending)  # and the join being updated that cancels it
        pending.data.update(
            {name: deepcopy(store[name]) for name in changed if name not in local}
        )
