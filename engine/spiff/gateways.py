"""Flow nodes whose SpiffWorkflow behaviour departs from BPMN / Camunda 7.

An exclusive gateway fails as an incident on the gateway when no flow is taken.

SpiffWorkflow raises a bare `WorkflowException` without the task ("No
conditions satisfied for gw"), so the case's incident named no element. BPMN
(and Camunda 7) make it an error at the gateway; here it is a task failure of
the gateway with a message that says what to change.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.defaults import ExclusiveGateway
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.defaults import NoneTask


class LanewayExclusiveGateway(ExclusiveGateway):
    """ExclusiveGateway whose 'no flow to take' error is located on its task."""

    def _run_hook(self, my_task: Any) -> Any:
        try:
            return super()._run_hook(my_task)
        except WorkflowTaskException:
            raise
        except WorkflowException:
            pass  # raised below, outside the handler: no chained cause in the message
        name = self.bpmn_name or self.bpmn_id
        raise WorkflowTaskException(
            f"No conditions satisfied for exclusive gateway '{name}': no outgoing "
            "flow has a true condition and there is no default flow",
            task=my_task,
        )


class PassThroughTask(NoneTask):
    """An abstract task (`bpmn:task`) passes through, as in Camunda 7.

    SpiffWorkflow makes it a manual task, which here would open an inbox task
    with no candidates: the case would wait for nobody.
    """

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = False
