"""End execution listeners and delete task listeners that run when an activity
is cancelled, as in Camunda 7.

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
  CustomListeners). What they set stays in the cancelled case's data;
* an operator's instance modification (modify.py), unless it skips custom
  listeners (ProcessInstanceModificationBuilder.execute(skipCustomListeners)).

A user task's delete task listeners run as it is cancelled, before its end
execution listeners (TaskEntity.delete fires the delete event, then the
activity instance ends: TaskListenerTest.testDeleteTaskListener...,
UserTaskActivityBehavior); never when it completes. A cancelled process
instance's end listeners run after all these (process_end.py).

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
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from SpiffWorkflow.workflow import Workflow

from .events import armed_event_subprocess
from .listener_run import SKIP, delete_key, process_end_key, run_lines, skipped
from .listeners import DELETE_SCRIPT, END_LISTENER, END_SCRIPT, PROCESS_END_SCRIPT
from .process_end import process_cancelled

_REACHED = TaskState.READY | TaskState.STARTED | TaskState.WAITING
_KEYS = (
    (END_SCRIPT, str),
    (DELETE_SCRIPT, delete_key),
    (PROCESS_END_SCRIPT, process_end_key),
)


def end_listener_scripts(roots: Iterable[etree._Element]) -> dict[str, str]:
    """The kept listeners' lines of the documents' elements (listener_run.py keys):
    end listeners by id, delete task listeners and process end listeners."""
    return {
        key(str(element.get("id"))): str(element.get(attribute))
        for root in roots
        for element in root.iter()
        if isinstance(element.tag, str)
        for attribute, key in _KEYS
        if element.get(attribute)
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


def _kept(task: Any, key: str) -> str | None:
    """The lines kept under `key` that `task`, about to be cancelled, runs then."""
    owner = getattr(task.workflow, "laneway_process", None)  # None: plain SpiffWorkflow
    listeners = owner.end_listeners if owner is not None else None
    if not (
        listeners
        and key in listeners
        and task.has_state(_REACHED)
        and not isinstance(task.task_spec, LoopTask)
        and not armed_event_subprocess(task)  # never triggered: never started
        and not skipped(task.workflow)
    ):
        return None
    return str(listeners[key])


def _label(task: Any) -> str:
    spec = task.task_spec
    return f"'{spec.bpmn_name}'" if spec.bpmn_name else f"'{spec.bpmn_id}'"


def interrupt_first(task_spec: Any) -> None:
    """Make an interrupting boundary event cancel its activity before its own
    path starts, as Camunda 7 does (the activity's executions are deleted,
    running their delete and end listeners, then the boundary event's flow is
    taken: ExecutionListenerTest.testOnCancellingBoundaryEvents). SpiffWorkflow
    updates the event's outputs in order, its path first, then the join that
    cancels the activity: the first element's start listeners ran before."""
    if isinstance(task_spec, BoundaryEvent) and task_spec.cancel_activity:
        joins = [s for s in task_spec.outputs if isinstance(s, BoundaryEventJoin)]
        others = [s for s in task_spec.outputs if s not in joins]
        task_spec.outputs = [*joins, *others]


def skip_custom_listeners(workflow: Any) -> None:
    """Cancel the case without its custom listeners (an operator's choice)."""
    setattr(workflow, SKIP, True)


@contextmanager
def custom_listeners_skipped(workflow: Any) -> Iterator[None]:
    """Cancel without custom listeners while inside."""
    top = workflow.top_workflow
    setattr(top, SKIP, True)
    try:
        yield
    finally:
        setattr(top, SKIP, False)


_plain_cancel = Task.cancel


def _cancel(self: Any) -> None:
    """SpiffWorkflow cancels a task (and a sub-process's or call's workflow
    with it, SubWorkflowTask._on_cancel); its delete task listeners, then its
    end listeners run after what was active inside it, innermost first."""
    bpmn_id = self.task_spec.bpmn_id
    deleted = _kept(self, delete_key(bpmn_id)) if bpmn_id else None
    ended = _kept(self, bpmn_id) if bpmn_id else None
    _plain_cancel(self)
    if deleted is not None:
        what = f"The delete listener of {_label(self)} failed as it was cancelled"
        run_lines(self, deleted, what)
    if ended is not None:
        what = f"The end listener of {_label(self)} failed as it was cancelled"
        run_lines(self, ended, what)


Task.cancel = _cancel

_plain_workflow_cancel = Workflow.cancel


def _cancel_workflow(self: Any, success: bool = False) -> list[Task]:
    """SpiffWorkflow cancels a (sub-)workflow: a process instance's end
    listeners run after those of what it cancelled (process_end.py)."""
    cancelled: list[Task] = _plain_workflow_cancel(self, success)
    process_cancelled(self, cancelled)
    return cancelled


Workflow.cancel = _cancel_workflow
