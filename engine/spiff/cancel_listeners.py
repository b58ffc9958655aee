"""End execution listeners that run when an activity is cancelled, as in Camunda 7.

Camunda 7 deletes a cancelled scope's executions without skipping custom
listeners: the end listeners of the activities active in it fire, innermost
first, then those of the scopes around them (PvmExecutionImpl.deleteCascade;
ExecutionListenerTest.testOnCancellingBoundaryEvents, RuntimeServiceTest
.testDeleteProcessInstanceWithListeners). Two cancellations run them here:

* a call activity's called instance (and the instances it calls in turn) when
  the call activity is cancelled: an interrupting boundary event, event
  sub-process or terminate end event of the caller, a multi-instance
  completion condition (PvmExecutionImpl.clearScope and
  PvmAtomicOperationDeleteCascade delete the sub process instance with the
  leaf's skipCustomListeners, false there, before the leaf's activity end
  fires). The child's variables they set stay the child's: Camunda 7 maps no
  output of a deleted call;
* the whole case, cancelled by an operator (`workflow_cancel`), unless the
  operator skips custom listeners (RuntimeService.deleteProcessInstance's
  skipCustomListeners; RuntimeServiceTest.testDeleteProcessInstanceSkip
  CustomListeners). What they set stays in the cancelled case's data.

An operator's instance modification (modify.py) cancels without them, as it
cancels a task without its own end listener (Camunda 7's modification runs
them unless skipCustomListeners: not followed yet).

An element's end listeners are the lines the upload kept for it
(listeners.END_SCRIPT, `CompiledProcess.end_listeners`); a task's post-script
also holds its complete task listeners, which a cancellation does not fire.
Only activities that have been reached run them: a ready or waiting task, a
started call activity or sub-process (after everything inside it), never a
multi-instance body (its instances do, each once: the listeners of a
multi-instance activity are its inner activity's).

A listener that fails stops the cancellation: `EndListenerFailed` (the case's
cancellation is refused, nothing changes, as Camunda 7's deletion fails and
rolls back); inside a step of the engine (a boundary event cancelling a call)
the step fails like a failing script, located at the element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState

from .called import owner_of
from .listeners import END_LISTENER, END_SCRIPT
from .reached_failures import failure_text
from .variables import publish, refresh, variables_of

_REACHED = TaskState.READY | TaskState.STARTED | TaskState.WAITING
# Set on the case's workflow object while an operator's cancellation skips them.
_SKIP = "laneway_skip_custom_listeners"


def end_listener_scripts(roots: Iterable[etree._Element]) -> dict[str, str]:
    """The end listeners' lines of each element of the documents, by id."""
    return {
        str(element.get("id")): str(element.get(END_SCRIPT))
        for root in roots
        for element in root.iter()
        if isinstance(element.tag, str) and element.get(END_SCRIPT)
    }


def unkept_end_listeners(root: etree._Element) -> bool:
    """Whether an element is marked as running an end listener whose lines were
    not kept (a version stored before END_SCRIPT)."""
    return any(
        isinstance(element.tag, str)
        and element.get(END_LISTENER) == "true"
        and not element.get(END_SCRIPT)
        for element in root.iter()
    )


def _reached(workflow: Any) -> list[Any]:
    owner = getattr(workflow, "laneway_process", None)  # None: plain SpiffWorkflow
    listeners = owner.end_listeners if owner is not None else None
    if not listeners:
        return []
    return [
        task
        for task in workflow.get_tasks(state=_REACHED, skip_subprocesses=True)
        if task.task_spec.bpmn_id in listeners
        and not isinstance(task.task_spec, LoopTask)
    ]


def _run(task: Any) -> None:
    spec = task.task_spec
    body = owner_of(task.workflow).end_listeners[spec.bpmn_id]
    store = variables_of(task.workflow)
    if store is not None:  # what the listeners inside it set (it is no longer live)
        refresh(task, store)
    try:
        task.workflow.script_engine.execute(task, body)
    except Exception as exc:
        label = f"'{spec.bpmn_name}'" if spec.bpmn_name else f"'{spec.bpmn_id}'"
        raise WorkflowTaskException(
            f"The end listener of {label} failed as it was cancelled: "
            f"{failure_text(exc)}",
            task=task,
        ) from exc
    publish(task)  # setVariable: into its process instance's variables


def cancel_running_listeners(workflow: Any, cancel: Callable[[], Any]) -> None:
    """Run `cancel` (which cancels `workflow`'s unfinished tasks), then the end
    listeners of the tasks of `workflow` that had been reached; those of the
    instances it calls run first, as each call activity is cancelled."""
    reached = [] if getattr(workflow.top_workflow, _SKIP, False) else _reached(workflow)
    cancel()
    for task in reached:
        _run(task)


def skip_custom_listeners(workflow: Any) -> None:
    """Cancel the case without its custom listeners (an operator's choice)."""
    setattr(workflow, _SKIP, True)


@contextmanager
def custom_listeners_skipped(workflow: Any) -> Iterator[None]:
    """Cancel without custom listeners while inside."""
    top = workflow.top_workflow
    setattr(top, _SKIP, True)
    try:
        yield
    finally:
        setattr(top, _SKIP, False)


_plain_on_cancel = SubWorkflowTask._on_cancel


def _on_cancel(self: Any, my_task: Any) -> None:
    """SpiffWorkflow cancels a sub-process's or call's workflow; the end
    listeners of what was active inside it run after it, innermost first."""
    subworkflow = my_task.workflow.top_workflow.get_subprocess(my_task)
    if subworkflow is None:
        _plain_on_cancel(self, my_task)
        return
    cancel_running_listeners(subworkflow, subworkflow.cancel)


SubWorkflowTask._on_cancel = _on_cancel
