"""End execution listeners that run when an activity is cancelled, as in Camunda 7.

Camunda 7 deletes a cancelled scope's executions without skipping custom
listeners: the end listeners of the activities active in it fire, innermost
first, then those of the scopes around them (PvmExecutionImpl.deleteCascade;
ExecutionListenerTest.testOnCancellingBoundaryEvents, RuntimeServiceTest
.testDeleteProcessInstanceWithListeners). Every cancellation of an active task
runs them here, as SpiffWorkflow cancels it (`Task.cancel`):

* within its own process: an interrupting boundary event on it or on a
  sub-process around it, an interrupting event sub-process, a terminate end
  event on another path, a parallel multi-instance completion condition
  cancelling the other instances (ParallelMultiInstanceActivityBehavior
  deletes them with deleteCascade, custom listeners not skipped). What they
  set is the process instance's, seen by the path that goes on;
* a call activity's called instance (and the instances it calls in turn) when
  the call activity is cancelled (PvmExecutionImpl.clearScope and
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

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .called import owner_of
from .events import armed_event_subprocess
from .listeners import END_LISTENER, END_SCRIPT
from .reached_failures import failure_text
from .variables import local_names, publish, refresh, variables_of

_REACHED = TaskState.READY | TaskState.STARTED | TaskState.WAITING
# Tasks a publish does not bring up to date (variables._live): a boundary
# event's join cancels the activity while it is being updated, then publishes.
_PENDING = TaskState.FUTURE | TaskState.PREDICTED_MASK
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


def _listened(task: Any) -> bool:
    """Whether `task`, about to be cancelled, runs its end listeners then."""
    owner = getattr(task.workflow, "laneway_process", None)  # None: plain SpiffWorkflow
    listeners = owner.end_listeners if owner is not None else None
    return bool(
        listeners
        and task.has_state(_REACHED)
        and task.task_spec.bpmn_id in listeners
        and not isinstance(task.task_spec, LoopTask)
        and not armed_event_subprocess(task)  # never triggered: never started
        and not getattr(task.workflow.top_workflow, _SKIP, False)
    )


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
    before = dict(variables_of(task.workflow) or {})
    publish(task)  # setVariable: into its process instance's variables
    store = variables_of(task.workflow) or {}
    changed = [n for n, v in store.items() if n not in before or before[n] != v]
    for pending in task.workflow.get_tasks(state=_PENDING) if changed else []:
        local = local_names(pending)  # and the join being updated that cancels it
        pending.data.update(
            {name: deepcopy(store[name]) for name in changed if name not in local}
        )


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


_plain_cancel = Task.cancel


def _cancel(self: Any) -> None:
    """SpiffWorkflow cancels a task (and a sub-process's or call's workflow
    with it, SubWorkflowTask._on_cancel); its end listeners run after what was
    active inside it, innermost first."""
    listened = _listened(self)
    _plain_cancel(self)
    if listened:
        _run(self)


Task.cancel = _cancel
