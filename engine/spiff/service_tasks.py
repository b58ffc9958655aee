"""Service tasks run asynchronously: the engine leaves them STARTED for a worker.

The parser swaps SpiffWorkflow's synchronous Spiff service task for
`AsyncServiceTask`, whose `_execute` evaluates the parameters, records the call in
the task's internal data and returns None (STARTED). The worker later applies
the result with `runtime.workflow_apply_service_result`.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition

from .dmn import DecisionParserMixin
from .end_events import OVERRIDE_END_EVENTS

CALL_KEY = "laneway_call"


class AsyncServiceTask(ServiceTask):
    """A Spiff service task that waits in STARTED for an external worker."""

    def _execute(self, task: Any) -> None:
        params = {name: p["value"] for name, p in self.evaluate_params(task).items()}
        task.internal_data[CALL_KEY] = {
            "operation": self.operation_name,
            "params": params,
        }
        return None


class LanewayParser(DecisionParserMixin, SpiffBpmnParser):
    """SpiffBpmnParser with asynchronous service tasks and Laneway's DMN (`dmn`)."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, AsyncServiceTask),
        **DecisionParserMixin.OVERRIDE_DECISIONS,
        **OVERRIDE_END_EVENTS,
    }


def _attached_catchers(task: Any, event: Any) -> list[Any]:
    parent = task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return []
    return [
        sibling
        for sibling in parent.children
        if sibling is not task
        and isinstance(sibling.task_spec, BoundaryEvent)
        and sibling.task_spec.catches(sibling, event)
    ]


def error_catcher(task: Any, event: Any) -> Any | None:
    """Return the waiting error boundary event that catches `event` thrown at `task`.

    BPMN scoping, not SpiffWorkflow's "any catcher in the same workflow": the
    boundary events attached to the task, then those attached to each enclosing
    subprocess or call activity, innermost first. A boundary naming the error's
    code wins over a catch-all boundary (no errorRef or no errorCode).
    """
    current = task
    while current is not None:
        catchers = _attached_catchers(current, event)
        if catchers:
            code = event.event_definition.code
            exact = [c for c in catchers if c.task_spec.event_definition.code == code]
            return (exact or catchers)[0]
        workflow = current.workflow
        if workflow.parent_task_id is None:
            return None
        current = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    return None


def service_error_event(code: str, payload: Any) -> Any:
    """Build the BPMN error event a service task throws for a business error."""
    return BpmnEvent(ErrorEventDefinition(code, code=code), payload=payload)
