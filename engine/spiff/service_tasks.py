"""Service tasks run asynchronously: the engine leaves them STARTED for a worker.

The parser swaps SpiffWorkflow's synchronous Spiff service task for
`AsyncServiceTask`, whose `_execute` evaluates the parameters, records the call in
the task's internal data and returns None (STARTED). The worker later applies
the result with `runtime.workflow_apply_service_result`.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask
from SpiffWorkflow.spiff.specs.event_definitions import ErrorEventDefinition

from .events import EVENT_PARSER_CLASSES, arm_event_subprocesses, scoped_catcher

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


class LanewayParser(SpiffBpmnParser):
    """SpiffBpmnParser with asynchronous service tasks and BPMN event scoping."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        **EVENT_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, AsyncServiceTask),
    }

    def get_spec(self, process_id: str, required: bool = True) -> Any:
        spec = super().get_spec(process_id, required)
        return spec if spec is None else arm_event_subprocesses(spec)


def error_catcher(task: Any, event: Any) -> Any | None:
    """Return the waiting catcher of `event` thrown at `task` (BPMN scoping).

    The boundary events attached to the task, then per enclosing scope,
    innermost first, its error event sub-processes and the boundary events of
    the sub-process or call activity; a catcher naming the error's code wins
    over a catch-all (no errorRef or no errorCode). See `events.scoped_catcher`.
    """
    event.target = task.workflow
    return scoped_catcher(event, activity=task)


def service_error_event(code: str, payload: Any) -> Any:
    """Build the BPMN error event a service task throws for a business error."""
    return BpmnEvent(ErrorEventDefinition(code, code=code), payload=payload)
