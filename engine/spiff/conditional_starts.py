"""A process's conditional start events, started as Camunda 7's condition evaluation
starts them (RuntimeService.createConditionEvaluation, REST POST /condition).

A conditional start event is never evaluated inside a case: a case started by
hand, by a message, signal or timer, or by a call activity never starts there
(conditional_events.LanewayConditionalEventDefinition.has_fired). The
condition evaluation (engine.services.conditions) gives variables; for each
conditional start event of the process whose camunda:variableName (if any) is
one of those variables, the condition is evaluated on exactly those variables
(DefaultConditionHandler.evaluateCondition: a temporary execution holding
them), a name it does not know being false (tryEvaluate); each one that holds
starts one case there, with those variables (`workflow_start_by_condition`).
camunda:variableEvents has no meaning here (Camunda 7 ignores it too).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import (
    ConditionalEventDefinition,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from .common import json_safe
from .compiled import CompiledProcess
from .conditional_events import START_FIRED
from .errors import SpiffAdapterError
from .reached_failures import failure_text
from .serialization import new_workflow
from .timer_starts import hold_timer_starts
from .types import AdvanceOutcome


class ConditionNotEvaluable(SpiffAdapterError):
    """A start condition failed on the given variables (not a Boolean, ...)."""

    def __init__(self, bpmn_id: str, reason: str) -> None:
        super().__init__(reason)
        self.bpmn_id = bpmn_id
        self.reason = reason


def _conditional(spec: Any) -> bool:
    definition = getattr(spec, "event_definition", None)
    return isinstance(definition, ConditionalEventDefinition) and bool(
        getattr(definition, "process_start", False)
    )


def conditional_start_ids(process: CompiledProcess) -> tuple[str, ...]:
    """Return the ids of the process's conditional start events."""
    starts = process.spec.bpmn_start_events  # type: ignore[attr-defined]
    return tuple(sorted(spec.bpmn_id for spec in starts if _conditional(spec)))


def _prepared(process: CompiledProcess, data: Mapping[str, Any]) -> Any:
    """A new workflow with `data` as its variables, its start events reached."""
    workflow = new_workflow(process)
    workflow.task_tree.data.update(json_safe(dict(data)))
    hold_timer_starts(workflow, process)
    for _ in range(2):  # the workflow's start, then the split into start events
        for task in workflow.get_tasks(state=TaskState.READY):
            task.run()
    return workflow


def _start_tasks(workflow: Any) -> Iterator[Any]:
    yield from (
        task
        for task in workflow.get_tasks(state=TaskState.NOT_FINISHED_MASK)
        if task.task_spec in workflow.spec.bpmn_start_events
    )


def workflow_conditions_holding(
    process: CompiledProcess, *, data: Mapping[str, Any]
) -> tuple[str, ...]:
    """Return the ids of the conditional start events whose condition holds on `data`.

    Raises:
        ConditionNotEvaluable: a condition failed other than on an unknown name.
    """
    variables = json_safe(dict(data))
    holding = []
    for task in _start_tasks(_prepared(process, data)):
        if not _conditional(task.task_spec):
            continue
        definition = task.task_spec.event_definition
        if definition.variable_name and definition.variable_name not in variables:
            continue  # DefaultConditionHandler.evaluateCondition: not evaluated
        task.data = dict(variables)  # exactly the evaluation's variables
        try:
            holds = definition.evaluate(task)
        except SpiffWorkflowException as exc:
            raise ConditionNotEvaluable(
                task.task_spec.bpmn_id, failure_text(exc)
            ) from None
        if holds:
            holding.append(task.task_spec.bpmn_id)
    return tuple(sorted(holding))


def workflow_start_by_condition(
    process: CompiledProcess, *, bpmn_id: str, data: Mapping[str, Any]
) -> AdvanceOutcome:
    """Create a workflow started at its conditional start event `bpmn_id`, and run it.

    The condition is not evaluated again (the evaluation found it holding).

    Raises:
        ConditionNotEvaluable: the process has no conditional start event `bpmn_id`.
    """
    from .runtime import run_command  # the runtime imports this module

    if bpmn_id not in conditional_start_ids(process):
        raise ConditionNotEvaluable(
            bpmn_id, f"'{process.key}' has no conditional start event '{bpmn_id}'"
        )
    workflow = _prepared(process, data)
    fired = []
    for task in list(_start_tasks(workflow)):
        if task.task_spec.bpmn_id == bpmn_id:
            task._set_internal_data(**{START_FIRED: True})
            fired.append(task)
        else:
            task.cancel()

    def fire(steps: list[Any]) -> None:
        for task in fired:
            if task.has_state(TaskState.WAITING):
                task._ready()

    return run_command(workflow, process, fire)
