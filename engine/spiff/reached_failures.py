"""Failures of a task as it is reached, reported once the engine has run.

SpiffWorkflow reaches a completed task's successors one after another
(`TaskSpec._on_complete` updates each child): a successor that raises while it
is reached stops that loop, so the successors after it are never reached. A
parallel fork whose first branch failed so never offered its other branches,
and nothing said so: they stayed FUTURE for good, even after a retry.

Laneway runs a failing automatic step as an incident on its element (as if
asyncBefore), and the other paths run on. So a task that fails as it is
reached (its camunda:inputOutput inputs, the name of the message or signal it
waits for) is left in ERROR, off the event manager, and its failure is kept
in its internal data; the adapter takes it when the engine has run
(`reached_failure`, runtime.run) and opens the incident. A retry reaches the
task again.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

_KEY = "laneway_failed_when_reached"  # task internal data: {message, error_type}


def fail_when_reached(task: Any, error: SpiffWorkflowException) -> None:
    """Leave `task` in ERROR with `error`, to be reported when the engine has run."""
    task.workflow.top_workflow.event_manager.remove_task(task)
    task._set_state(TaskState.ERROR)
    task.internal_data[_KEY] = {
        "message": str(error),
        "error_type": getattr(error, "error_type", "") or type(error).__name__,
    }


def failed_when_reached(task: Any) -> bool:
    """Whether `task` failed as it was reached in this command."""
    return _KEY in task.internal_data


def reached_failure(workflow: Any) -> WorkflowTaskException | None:
    """Take the first failure of a task reached in this command.

    Taken once: a later command does not report it again; a retry reaches
    the task again.
    """
    for task in workflow.get_tasks(state=TaskState.ERROR):
        failed = task.internal_data.pop(_KEY, None)
        if failed is not None:
            error = WorkflowTaskException(failed["message"], task=task)
            error.error_type = failed["error_type"]
            return error
    return None
