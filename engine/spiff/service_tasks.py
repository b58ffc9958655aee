"""Service tasks run asynchronously: the engine leaves them STARTED for a worker.

The parser swaps SpiffWorkflow's synchronous Spiff service task for
`AsyncServiceTask`, whose `_execute` evaluates the parameters, records the call in
the task's internal data and returns None (STARTED). The worker later applies
the result with `runtime.workflow_apply_service_result`.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import ServiceTask

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
    """SpiffBpmnParser with asynchronous service tasks."""

    OVERRIDE_PARSER_CLASSES = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ServiceTaskParser, AsyncServiceTask),
    }
