"""BPMN errors that nothing catches: the path that threw them ends.

Camunda 7 (default `enableExceptionsAfterUnhandledBpmnError = false`):
`BpmnExceptionHandler.propagateError` walks the scopes up through the callers
of a called process; when no error event definition catches the code it logs
`missingBoundaryCatchEvent` ("Execution is ended (none end event semantics)")
and calls `execution.end(true)`. The same for an error end event
(`ErrorEndEventActivityBehavior`), a delegate's `BpmnError` and an external
task's handleBpmnError (`ExternalTaskEntity.bpmnError` ->
`propagateBpmnError`): the execution that threw ends as at a none end event,
its activity instance ending normally (end listeners, output mappings) without
taking its outgoing flows; other paths go on, and its scope (a sub-process, a
called process, the case) completes when nothing else runs there
(ExternalTaskServiceTest#testHandleBpmnErrorWithoutDefinedBoundary: the process
ends, the task after the external task is never created).

An uncaught error end event already ends so (`events.ScopedEventManager` keeps
the event, SpiffWorkflow completes the end event). Each uncaught error is
reported in the outcome (`UncaughtError`), so the engine audits it.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    LoopTask,
    MultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState

from .types import UncaughtError

_THROWER = "laneway_thrower"


def thrower_note(event: Any, task: Any) -> None:
    """Remember on `event` the element that threw it (read by `uncaught_errors`)."""
    spec = task.task_spec
    setattr(event, _THROWER, (spec.bpmn_id or "", spec.bpmn_name or ""))


def path_can_end(task: Any) -> bool:
    """Whether an uncaught error at the service task `task` ends its path here.

    Only for a diagram of the Camunda dialect (the spec's `uncaught_error_ends`,
    service_tasks.py). At an instance of a multi-instance activity the instance
    ends, and the activity counts it as completed (Camunda 7: the ended
    execution is a child of the multi-instance body, whose
    ParallelMultiInstanceActivityBehavior / SequentialMultiInstanceActivityBehavior
    counts it in nrOfCompletedInstances and evaluates the completion condition;
    here completing the instance merges it, `multi_instance.merge_child`). Not
    at an iteration of a standard loop, which Camunda 7 does not run: Laneway
    keeps the incident there.
    """
    if not getattr(task.task_spec, "uncaught_error_ends", False):
        return False
    parent = task.parent
    return (
        parent is None
        or not isinstance(parent.task_spec, LoopTask)
        or isinstance(parent.task_spec, MultiInstanceTask)
    )


def path_end(task: Any, event: Any) -> None:
    """End the path of the STARTED task `task` as a none end event would.

    The task completes (its end listeners and output mappings run), its
    outgoing flows are not taken, its boundary events are cancelled; `event`
    is kept as uncaught.
    """
    task.complete()
    split = task.parent
    if split is not None and isinstance(split.task_spec, BoundaryEventSplit):
        for sibling in split.children:
            if isinstance(sibling.task_spec, BoundaryEvent) and sibling.has_state(
                TaskState.NOT_FINISHED_MASK
            ):
                sibling.cancel()
    task._drop_children(force=True)
    # Nothing else running there, the (sub-)process has ended: SpiffWorkflow
    # notes it only at its End task (Workflow._task_completed_notify), and the
    # activity that runs it (an embedded sub-process, a call activity) goes on
    # only when told.
    workflow = task.workflow
    if workflow is not workflow.top_workflow and workflow.is_completed():
        workflow.completed_event(workflow)
    thrower_note(event, task)
    task.workflow.top_workflow.bpmn_events.append(event)


def uncaught_errors(workflow: Any) -> tuple[UncaughtError, ...]:
    """Return the errors of this command nothing caught (the events stay)."""
    found = []
    for event in workflow.top_workflow.bpmn_events:
        definition = event.event_definition
        if not isinstance(definition, ErrorEventDefinition):
            continue
        bpmn_id, name = getattr(event, _THROWER, ("", ""))
        payload = event.payload if isinstance(event.payload, dict) else {}
        found.append(
            UncaughtError(
                code=str(definition.code or ""),
                message=str(
                    payload.get("message")
                    or getattr(definition, "error_message", None)
                    or ""
                ),
                bpmn_id=bpmn_id,
                element_name=name,
            )
        )
    return tuple(found)
