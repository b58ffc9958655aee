"""A process's end execution listeners, run when its instance ends, as in Camunda 7.

Camunda 7 fires the end listeners of the process definition when the process
instance's execution ends (PvmAtomicOperationProcessEnd; ExecutionListenerTest
.testExecutionListenersOnAllPossibleElements, testProcessInstanceStartAndEnd
Listeners): after the end listeners of the last end event reached, and, with a
terminate end event, after those of every activity it cancelled. On deletion
(RuntimeService.deleteProcessInstance, a call activity around a called
instance cancelled) they fire last, after the cancelled activities' own
(PvmAtomicOperationDeleteCascadeFireActivityEnd), unless custom listeners are
skipped. Here:

* a normal end: the scope's end join (`events.ScopedEndJoin`), which fires
  once, when the last path of the instance has ended;
* a terminate end event of the instance (not of an embedded sub-process):
  after it cancelled the rest (`events.ScopedEndEvent`), before the instance
  completes (a call activity around it then maps its outputs);
* a cancellation of the instance's workflow (the case cancelled by an
  operator, a called instance whose call activity is cancelled): after the
  end listeners of what it cancelled (cancel_listeners.py), unless skipped.

An instance is the case's workflow or a called process's (a call activity's);
an embedded sub-process's workflow is no instance (its end listeners are the
activity's). What the listeners set goes into the instance's variables: the
case's data, or what the call activity's outputs map.
"""

from __future__ import annotations

from typing import Any

from .listener_run import process_end_key, run_lines, skipped
from .variables import instance_scope


def _body(workflow: Any) -> str | None:
    owner = getattr(workflow, "laneway_process", None)  # None: plain SpiffWorkflow
    if owner is None or not owner.end_listeners:
        return None
    body = owner.end_listeners.get(process_end_key(workflow.spec.name))
    if body is None or instance_scope(workflow)[0] is not workflow:
        return None  # an embedded sub-process's workflow
    return str(body)


def _run(workflow: Any, task: Any) -> None:
    body = _body(workflow)
    if body is not None:
        label = workflow.spec.description or workflow.spec.name
        run_lines(task, body, f"The end listener of the process '{label}' failed")


def process_ended(task: Any) -> None:
    """The instance `task` is in ends (its end join, a terminate end event):
    run its process's end listeners on `task`."""
    _run(task.workflow, task)


def process_cancelled(workflow: Any, cancelled: list[Any]) -> None:
    """The instance's workflow was cancelled (`cancelled`: the tasks it had
    unfinished): run its process's end listeners, unless skipped."""
    if cancelled and not skipped(workflow):
        _run(workflow, workflow.task_tree)
