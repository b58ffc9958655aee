"""Receive tasks without a message: wait states continued by a signal.

Camunda 7 runs a receive task that names no message as a plain wait state
(`ReceiveTaskActivityBehavior`: nothing on execute, `leave` on signal): the
case waits there until `RuntimeService.signal(executionId, variables)` (REST
`POST /execution/{id}/signal`) continues it, the variables set first. Its
execution id here is the waiting task's id.

SpiffWorkflow parses such a task with a `NoneEventDefinition`, which fires as
soon as the task is reached (the task would be skipped). `adapt` gives it an
`ExecutionSignal` instead: no event thrown in the case catches it, so it waits
(WAITING, in the event manager like any catching task) until
`workflow_signal_receive` (receive_signal.py) fires it.
"""

from __future__ import annotations

import weakref
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.base import EventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import (
    EventBasedGateway,
    ReceiveTask,
)
from SpiffWorkflow.bpmn.util import PendingBpmnEvent
from SpiffWorkflow.util.task import TaskState

from .compiled import CompiledProcess
from .types import WaitingReceive


class ExecutionSignal(EventDefinition):
    """What a receive task without a message waits for: a signal to its execution."""

    def catches(self, my_task: Any, event: Any) -> bool:
        """Return False: no event thrown in the case continues it."""
        return False

    def details(self, my_task: Any) -> Any:
        """Describe the wait (SpiffWorkflow's waiting_events)."""
        return PendingBpmnEvent(None, type(self).__name__)


def adapt(task_spec: Any) -> None:
    """Make a receive task without a message wait for its signal (idempotent).

    A receive task after an event-based gateway is left alone: SpiffWorkflow
    moves its message to the gateway and gives it a none event (one without a
    message is refused there at upload, as Camunda 7 refuses it).
    """
    if (
        isinstance(task_spec, ReceiveTask)
        and isinstance(_definition(task_spec), NoneEventDefinition)
        and not any(isinstance(i, EventBasedGateway) for i in task_spec.inputs)
    ):
        task_spec.event_definition = ExecutionSignal()


_HAS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def process_has_receive_waits(process: CompiledProcess) -> bool:
    """Return whether the process (or a process it runs) has such a receive task."""
    known = _HAS.get(process.spec)
    if known is None:
        specs = [process.spec, *dict(process.subprocess_specs or {}).values()]  # type: ignore[call-overload]
        known = any(
            isinstance(_definition(t), ExecutionSignal)
            for spec in specs
            for t in spec.task_specs.values()
        )
        _HAS[process.spec] = known
    return known


def _definition(task_spec: Any) -> Any:
    return getattr(task_spec, "event_definition", None)


def waiting_receive_tasks(workflow: Any) -> list[Any]:
    """Return the WAITING receive tasks without a message (Spiff tasks)."""
    return [
        task
        for task in workflow.top_workflow.event_manager.tasks.values()
        if isinstance(_definition(task.task_spec), ExecutionSignal)
        and task.state == TaskState.WAITING
    ]


def waiting_receives(workflow: Any) -> tuple[WaitingReceive, ...]:
    """Return the receive tasks without a message that wait, oldest first."""
    return tuple(
        WaitingReceive(
            task_id=str(task.id),
            bpmn_id=task.task_spec.bpmn_id or "",
            name=task.task_spec.bpmn_name or task.task_spec.bpmn_id or "",
        )
        for task in sorted(
            waiting_receive_tasks(workflow), key=lambda t: t.last_state_change
        )
    )
