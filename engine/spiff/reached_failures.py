"""Failures of a task as it is reached, reported once the engine has run.

SpiffWorkflow reaches a completed task's successors one after another
(`TaskSpec._on_complete` updates each child): a successor that raises while it
is reached stops that loop, so the successors after it are never reached. A
parallel fork whose first branch failed so never offered its other branches,
and nothing said so: they stayed FUTURE for good, even after a retry.

Laneway runs a failing automatic step as an incident on its element (as if
asyncBefore), and the other paths run on. So a task that fails as it is
reached (its camunda:inputOutput inputs, its multi-instance collection, the
name of the message or signal it waits for) is left in ERROR, off the event
manager, and its failure's text is kept in its internal data; the adapter
takes it when the engine has run (`reached_failure`, runtime.run) and opens
the incident. One command reports every such failure (the first as the
outcome's failure, the others as `also_failed`: an incident each, at once).
A retry reaches the task again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

_KEY = "laneway_failed_when_reached"  # task internal data: {message, error_type}


def failure_text(exc: BaseException) -> str:
    """The first line of a failure, with the reason SpiffWorkflow keeps only in
    the exception's context ("Error evaluating expression 'x'" says no more)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) and str(cause) not in first:
        first = f"{first}: {type(cause).__name__}: {str(cause).strip().splitlines()[0]}"
    # SpiffWorkflow's WorkflowDataException ("Missing data input", "You are
    # missing a required Data Input for a call activity.") keeps the name apart.
    for attribute, kind in (
        ("data_input", "data input"),
        ("data_output", "data output"),
    ):
        name = getattr(getattr(exc, attribute, None), "bpmn_id", None)
        if name and f"'{name}'" not in first:
            first = f"{first.rstrip('. ')} ({kind} '{name}')"
    return first[:2000]


class ReachedFailure(Exception):  # noqa: N818 - named as what it reports
    """A task's failure as it was reached, taken from its internal data."""

    def __init__(self, message: str, *, task: Any, error_type: str) -> None:
        super().__init__(message)
        self.task = task
        self.error_type = error_type


def fail_when_reached(task: Any, error: SpiffWorkflowException) -> None:
    """Leave `task` in ERROR with `error`, to be reported when the engine has run."""
    task.workflow.top_workflow.event_manager.remove_task(task)
    task._set_state(TaskState.ERROR)
    task.internal_data[_KEY] = {
        "message": failure_text(error),
        "error_type": getattr(error, "error_type", "") or type(error).__name__,
    }


class NotReached(Exception):  # noqa: N818 - a signal, not an error
    """Raised out of a spec's update hook once its task failed as it was reached
    (`stop_reaching`); the spec's outermost hook (`not_ready_when_failed`)
    catches it and answers "not ready", so the task stays in ERROR and nothing
    after it in the hook runs (a sub-process does not start, no instance is
    made)."""


def stop_reaching(task: Any, error: SpiffWorkflowException) -> NoReturn:
    """Fail `task` as it is reached (`fail_when_reached`) and leave its update hook."""
    fail_when_reached(task, error)
    raise NotReached from error


def not_ready_when_failed(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a spec's update hook: "not ready" when its task stopped reaching."""

    def _update_hook(my_task: Any) -> Any:
        try:
            return hook(my_task)
        except NotReached:
            return False

    return _update_hook


def _tasks(workflow: Any) -> Any:
    """Every task of the case, in its sub-processes and called processes too.

    Not `get_tasks(state=ERROR)`: SpiffWorkflow's iterator for a finished-like
    state descends only below finished tasks, so it never reached a
    multi-instance instance (its activity is STARTED) or a task inside a
    running sub-process.
    """
    top = workflow.top_workflow
    yield from top.tasks.values()
    for sub in top.subprocesses.values():
        yield from sub.tasks.values()


def reached_failure(workflow: Any) -> ReachedFailure | None:
    """Take the first failure of a task reached in this command not taken yet
    (runtime.run_command takes them all).

    Taken once: a later command does not report it again; a retry reaches
    the task again.
    """
    for task in _tasks(workflow):
        if task.state != TaskState.ERROR:
            continue
        failed = task.internal_data.pop(_KEY, None)
        if failed is not None:
            return ReachedFailure(
                failed["message"], task=task, error_type=failed["error_type"]
            )
    return None
